"""Learned preconditioners and learned conjugate-direction solvers, trained on a problem's family.

- :mod:`.factor_gnn`: a graph network predicting a sparse lower-triangular factor (Li et al., ICML 2023);
- :mod:`.directions` and :mod:`.conjugate_directions`: DCDM learned search directions (Kaneda et al., ICML 2023);
- :mod:`.prolongation`: learned prolongation stencils inside the Galerkin V-cycle;
- :mod:`.training`, :mod:`.checkpoint`, :mod:`.hook`: training, model files with cards, the ``cg`` solver hook.
"""
