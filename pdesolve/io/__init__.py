"""Run folders (atomic writes, ``metrics.json``) and solution export (npz, meshio)."""
