"""Darcy flow with a permeability a ∈ {1e-2, 1} (contrast 1e2), a moderately hard case for CG preconditioners:
``darcy2d_contrast`` (same field, same equation) at a lower contrast."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_darcy2d_contrast", Path(__file__).with_name("darcy2d_contrast.py"))
_contrast = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_contrast)

problem = _contrast.contrast_problem("darcy2d_contrast100", 2)
