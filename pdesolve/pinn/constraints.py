"""Hard constraints built from a problem's conditions: which are exact, and the transform that imposes them.

- Periodic axes enter the network only through cos/sin of their coordinate (:mod:`pdesolve.pinn.embedding`).
- Dirichlet data on boxes, disks, polygons, their combinations and 2D meshes, ``u = g + φ N``
  (:mod:`pdesolve.pinn.transforms`), on the parts that :mod:`pdesolve.pinn.hard_parts` finds.
- A mean-value gauge of an unknown known up to a constant is set when the model is evaluated
  (:mod:`pdesolve.pinn.gauges`).
- The initial condition, ``u = u₀(x) + τ N``, where it is periodic to first order and compatible with the exact
  Dirichlet data, with a decay factor where the data decay fast (:mod:`pdesolve.pinn.initial`).
- Systems, per unknown: ``u_j = g_j + φ_j N_j`` with ``φ_j`` vanishing on the parts where the conditions naming
  ``u_j`` hold (each unknown claims parts on its own: an outflow claims its part for every unknown, a velocity
  condition only for the velocity); unknowns without such conditions (a pressure) stay free. An evolution
  system's initial condition, per evolving unknown, as for one unknown; its algebraic unknowns (the pressure)
  have none, and their mean-value gauge holds at every time.
"""

from __future__ import annotations

import torch

from pdesolve.pinn.hard_parts import hard_dirichlet_parts, hard_system_parts
from pdesolve.pinn.initial import COMPATIBLE, DECAYING, initial_decay_rate, initial_is_periodic, initial_mismatch
from pdesolve.pinn.transforms import OutputTransform, SystemTransform
from pdesolve.problem import Problem


def build_transform(problem: Problem, hard: bool, free: tuple[str, ...] = ()) -> OutputTransform | SystemTransform:
    """The output transform for ``hard_constraints``: Dirichlet where possible; the initial condition unless
    it is not periodic to first order along a periodic axis, or not compatible with the exact Dirichlet data
    (then it is a loss term; :mod:`pdesolve.pinn.initial` says why). A system's per unknown (less ``free``)."""
    initial = hard and problem.is_evolution and initial_is_periodic(problem)
    if problem.is_system:
        parts = hard_system_parts(problem, free) if hard else {}
        for name in problem.evolving if initial else ():
            if name in parts:
                with torch.no_grad():
                    mismatch, scale = initial_mismatch(OutputTransform(problem, parts[name], False, unknown=name))
                initial = initial and mismatch <= COMPATIBLE * max(1.0, scale)
        return SystemTransform(problem, free if hard else tuple(problem.unknowns), initial)
    dirichlet = hard_dirichlet_parts(problem) if hard else []
    mismatch = None
    if initial and dirichlet:
        with torch.no_grad():
            mismatch, scale = initial_mismatch(OutputTransform(problem, dirichlet, initial=False))
        initial = mismatch <= COMPATIBLE * max(1.0, scale)
    transform = OutputTransform(problem, dirichlet, initial=initial, initial_mismatch=mismatch)
    if transform.active and problem.is_evolution:
        rate = initial_decay_rate(transform)
        if rate * (problem.time[1] - problem.time[0]) >= DECAYING:
            transform.decay = rate
    return transform
