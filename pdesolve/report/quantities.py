"""Derived quantities of a run (drag, lift, pressure differences, profiles against tables) for
``metrics.json`` and the comparison report; every solver's solution is measured by the same code
(:mod:`pdesolve.problem.quantities`).
"""

from __future__ import annotations

from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.problem import Problem
from pdesolve.problem.quantities import evaluate_in_time

DASH = "-"


def measure_quantities(problem: Problem, solution: Any) -> dict[str, dict[str, Any]]:
    """Each declared quantity's record (an evolution problem's: at the final time, with its time series; a
    force the solver recorded after every step, ``stats["forces"]``, keeps that series); a quantity that
    cannot be evaluated on this solution says why."""
    measured = {}
    recorded = getattr(solution, "stats", {}).get("forces", {})
    for label, quantity in problem.quantities.items():
        try:
            if problem.is_evolution:
                measured[label] = evaluate_in_time(quantity, solution, recorded.get(label))
            else:
                measured[label] = quantity.evaluate(solution)
        except PdesolveError as error:
            measured[label] = {"unavailable": str(error)}
    return measured


def format_quantity(record: dict[str, Any]) -> str:
    """``5.5794 (rel. error 1.2e-05)``, ``max dev 2.1e-03, rel L2 1.0e-03``, or why it is missing."""
    if "unavailable" in record:
        return "n/a"
    if "max_abs_deviation" in record:
        return f"max dev {record['max_abs_deviation']:.2e}, rel L2 {record['rel_l2_deviation']:.2e}"
    text = f"{record['value']:.6g}"
    if record.get("rel_error") is not None:
        text += f" (rel. error {record['rel_error']:.1e})"
    if "max" in record:  # an evolution run's: at t₁, then the extremes of its series
        text += f" at t={record['t']:g}; max {record['max']:.6g} at t={record['t_max']:g}"
        if record.get("max_rel_error") is not None:
            text += f" (rel. error {record['max_rel_error']:.1e})"
    return text


def quantity_rows(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per run that measured quantities, one column per quantity."""
    labels: list[str] = []
    for record in records:
        labels += [label for label in record.get("quantities", {}) if label not in labels]
    if not labels:
        return [], []
    header = ["solver", "options", *labels]
    rows = []
    for record in records:
        if "quantities" not in record:
            continue
        name = record["solver"] if not record.get("alias") else f"{record['alias']} ({record['solver']})"
        options = ", ".join(f"{k}={v}" for k, v in record.get("options", {}).items()) or "defaults"
        found = record["quantities"]
        rows.append([name, options, *(format_quantity(found[k]) if k in found else DASH for k in labels)])
    return header, rows


def reference_note(problem: Problem) -> str:
    """The reference values and how each quantity is computed, one line."""
    parts = []
    for label, quantity in problem.quantities.items():
        reference, reference_max = getattr(quantity, "reference", None), getattr(quantity, "reference_max", None)
        known = [f"{label} = {reference:.12g}"] if reference is not None else []
        known += [f"max {label} = {reference_max:.12g}"] if reference_max is not None else []
        parts.append(", ".join(known) or f"{label}: against its table")
    return "Derived quantities (references): " + "; ".join(parts) + "."


def quantities_text(records: list[dict[str, Any]]) -> str:
    header, rows = quantity_rows(records)
    if not rows:
        return ""
    table = [header, *rows]
    widths = [max(len(r[k]) for r in table) for k in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def quantities_markdown(records: list[dict[str, Any]]) -> str:
    header, rows = quantity_rows(records)
    if not rows:
        return ""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * len(header)) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)
