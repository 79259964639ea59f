"""Which Dirichlet conditions a PINN imposes exactly, and on which parts of the boundary.

Conditions claim boundary atoms (a box's faces, else boundary pieces; :func:`pdesolve.problem.distance.atoms`) in
order, the faces of periodic axes first; a condition placed by a function of x cannot be put on the geometry and
stays a loss term, with the conditions after it.
"""

from __future__ import annotations

from pdesolve.problem import Box, Dirichlet, Gauge, Periodic, Problem
from pdesolve.problem.distance import atoms, has_distance
from pdesolve.problem.parts import PartSelector


def _periodic_faces(problem: Problem) -> set:
    """The faces of periodic axes of a box (claimed before any condition)."""
    if not isinstance(problem.domain, Box):
        return set()
    return {(k, side) for k, periodic in enumerate(problem.periodic_axes) if periodic for side in (0, 1)}


def hard_dirichlet_parts(problem: Problem) -> list[tuple[Dirichlet, frozenset]]:
    """The Dirichlet conditions of a scalar problem that can be imposed exactly, each with its boundary atoms.

    Conditions claim atoms (a box's faces, else boundary pieces; :func:`pdesolve.problem.distance.atoms`)
    in order, periodic faces first; a condition with ``on=None`` takes what is left. A condition whose
    ``on`` is a function of x cannot be placed on the geometry: it and everything after it stay soft.
    Systems: :func:`hard_system_parts`.
    """
    domain = problem.domain
    if problem.is_system or not has_distance(domain) or all(problem.periodic_axes):
        return []
    claimed = _periodic_faces(problem)
    out = []
    for condition in problem.boundary:
        if isinstance(condition, Periodic):
            continue
        if condition.on is not None and not isinstance(condition.on, PartSelector):
            break
        mine = atoms(domain, None if condition.on is None else condition.on.names) - claimed
        claimed |= mine
        if isinstance(condition, Dirichlet) and mine:
            out.append((condition, frozenset(mine)))
    return out


def hard_system_parts(problem: Problem, free: tuple[str, ...] = ()) -> dict[str, list[tuple[Dirichlet, frozenset]]]:
    """Per unknown of a system (less ``free``): its Dirichlet conditions imposed exactly, with their atoms.

    As :func:`hard_dirichlet_parts`, unknown by unknown: a Dirichlet condition claims atoms for the unknowns it
    names, any other boundary condition (an outflow) for all of them; a condition placed by a function of x
    leaves itself and the later ones soft for the unknowns it concerns. Unknowns left without: absent.
    """
    domain = problem.domain
    if not problem.is_system or not has_distance(domain):
        return {}
    chosen = [name for name in problem.unknowns if name not in free]
    claimed = {name: set(_periodic_faces(problem)) for name in chosen}
    out: dict[str, list[tuple[Dirichlet, frozenset]]] = {name: [] for name in chosen}
    placed = set(chosen)  # unknowns whose conditions can still be placed on the geometry
    for condition in problem.boundary:
        if isinstance(condition, (Periodic, Gauge)):
            continue
        names = [n for n in (condition.names if isinstance(condition, Dirichlet) else problem.unknowns) if n in placed]
        if condition.on is not None and not isinstance(condition.on, PartSelector):
            placed -= set(names)
            continue
        whole = atoms(domain, None if condition.on is None else condition.on.names)
        for name in names:
            mine = whole - claimed[name]
            claimed[name] |= mine
            if isinstance(condition, Dirichlet) and mine:
                out[name].append((condition, frozenset(mine)))
    return {name: parts for name, parts in out.items() if parts}


def hard_dirichlet_conditions(problem: Problem, free: tuple[str, ...] = ()) -> tuple[Dirichlet, ...]:
    """The Dirichlet conditions the output transform imposes exactly (a system's: for every unknown they name)."""
    if not problem.is_system:
        return tuple(condition for condition, _ in hard_dirichlet_parts(problem))
    parts = hard_system_parts(problem, free)
    exact = {name: [c for c, _ in chosen] for name, chosen in parts.items()}
    conditions = [c for c in problem.boundary if isinstance(c, Dirichlet)]
    return tuple(c for c in conditions if all(any(c is e for e in exact.get(n, [])) for n in c.names))
