"""The problem-definition layer shared by every solver family.

It imports without torch (``NetworkField``, the one torch-only class, loads on first use), so problem files
load fast; tensors are recognised by :mod:`pdesolve.problem.tensors`.
"""

from pdesolve.problem.conditions import Dirichlet, Gauge, Neumann, Outflow, Periodic, Robin
from pdesolve.problem.coords import Coords
from pdesolve.problem.domains import Ball, Box, Disk, Domain, Interval, Polygon, Rectangle
from pdesolve.problem.families import Family, GaussianRandomField, GridFunction, Thresholded
from pdesolve.problem.field import Field, VectorField
from pdesolve.problem.flow import continuity, navier_stokes, navier_stokes_rhs
from pdesolve.problem.functions import cos, cosh, exp, log, pi, sin, sinh, sqrt, tanh, where
from pdesolve.problem.grid import Grid
from pdesolve.problem.grid_field import GridField
from pdesolve.problem.loading import load_problem
from pdesolve.problem.mesh_domain import Mesh
from pdesolve.problem.operators import convective, curl, d, div, dot, grad, inverse_laplacian, laplacian, strain
from pdesolve.problem.problem import Problem
from pdesolve.problem.quantities import Drag, Force, Lift, PressureDifference, Profile, Quantity
from pdesolve.problem.reference import ReferenceData
from pdesolve.problem.systems import Unknowns

__all__ = [
    "Ball",
    "Box",
    "Coords",
    "Dirichlet",
    "Drag",
    "Disk",
    "Domain",
    "Family",
    "Field",
    "Force",
    "Gauge",
    "GaussianRandomField",
    "Grid",
    "GridField",
    "GridFunction",
    "Interval",
    "Lift",
    "Mesh",
    "NetworkField",
    "Neumann",
    "Outflow",
    "Periodic",
    "Polygon",
    "PressureDifference",
    "Problem",
    "Profile",
    "Quantity",
    "Rectangle",
    "ReferenceData",
    "Robin",
    "Thresholded",
    "Unknowns",
    "VectorField",
    "continuity",
    "convective",
    "cos",
    "cosh",
    "curl",
    "d",
    "div",
    "dot",
    "exp",
    "grad",
    "inverse_laplacian",
    "laplacian",
    "load_problem",
    "log",
    "navier_stokes",
    "navier_stokes_rhs",
    "pi",
    "sin",
    "sinh",
    "sqrt",
    "strain",
    "tanh",
    "where",
]


def __getattr__(name: str):
    if name == "NetworkField":
        from pdesolve.problem.network_field import NetworkField

        return NetworkField
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
