"""pdesolve: define a PDE once; solve it with any method; compare.

Importing the package is light (no torch): the command line and the solver families import what they use.
"""

__version__ = "0.1.0"
