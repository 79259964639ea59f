"""The comparison table, as aligned text for the terminal and as Markdown for ``report.md``.

Rows are the per-run records of ``metrics.json``; a run that failed has a ``failed`` message. A system's
table adds the relative L2 error of each unknown (the headline columns are its velocity vector's).
"residual" (RMS of the PDE residual) and "BC/IC max" (the largest boundary- or initial-condition
violation) are the a-posteriori indicators of network runs (:mod:`pdesolve.report.indicators`). A dash
marks what a run does not have (no iterations for a direct solve, no error without a reference). The
text table is followed by the derived quantities of the runs that measured some.
"""

from __future__ import annotations

import html
from typing import Any

from pdesolve.report.quantities import quantities_text

COLUMNS = (
    "solver",
    "options",
    "rel L2",
    "max error",
    "residual",
    "BC/IC max",
    "wall time",
    "iterations",
    "peak memory",
)
PER_UNKNOWN = "rel L2 per unknown"
DASH = "—"
ERRORS = ("rel_l2", "max_abs")


def format_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in options.items()) or "defaults"


def format_error(value: float | None) -> str:
    return DASH if value is None else f"{value:.3e}"


def format_seconds(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    if value < 600:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def format_bytes(value: int | None) -> str:
    if value is None:
        return DASH
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError


def columns(records: list[dict[str, Any]]) -> tuple[str, ...]:
    """The table's columns: a system's records add the per-unknown errors."""
    return COLUMNS + ((PER_UNKNOWN,) if any(r.get("errors_per_unknown") for r in records) else ())


def per_unknown(record: dict[str, Any]) -> str:
    errors = record.get("errors_per_unknown")
    if not errors:
        return "reference" if record.get("is_reference") else DASH
    return ", ".join(f"{name} {format_error(e['rel_l2'])}" for name, e in errors.items())


def row(record: dict[str, Any], wide: bool = False) -> list[str]:
    extra = [per_unknown(record)] if wide else []
    label = record["solver"] if not record.get("alias") else f"{record['alias']} ({record['solver']})"
    if record.get("failed"):
        return [label, format_options(record.get("options", {})), "failed", *[DASH] * (len(COLUMNS) - 3), *extra]
    iterations = record.get("iterations")
    errors = ["reference"] * 2 if record.get("is_reference") else [format_error(record.get(k)) for k in ERRORS]
    violations = [record.get(k) for k in ("boundary_max", "initial_max") if record.get(k) is not None]
    return [
        label,
        format_options(record.get("options", {})),
        *errors,
        format_error(record.get("residual_rms")),
        format_error(max(violations)) if violations else DASH,
        format_seconds(record.get("wall_time_s")),
        DASH if iterations is None else str(iterations),
        format_bytes(record.get("peak_memory_bytes")),
        *extra,
    ]


def failures(records: list[dict[str, Any]]) -> list[str]:
    return [f"{row(r)[0]} ({row(r)[1]}): {r['failed']}" for r in records if r.get("failed")]


def text_table(records: list[dict[str, Any]]) -> str:
    """Aligned columns; numbers right-aligned."""
    header = columns(records)
    rows = [list(header), *(row(r, len(header) > len(COLUMNS)) for r in records)]
    widths = [max(len(r[k]) for r in rows) for k in range(len(header))]
    lines = []
    for index, cells in enumerate(rows):
        parts = [
            c.ljust(w) if k < 2 or k >= len(COLUMNS) else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths))
        ]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [f"failed: {line}" for line in failures(records)]
    quantities = quantities_text(records)
    if quantities:
        lines += ["", "derived quantities:", quantities]
    return "\n".join(lines)


def markdown_table(records: list[dict[str, Any]]) -> str:
    header = columns(records)
    wide = len(header) > len(COLUMNS)
    numeric = [" ---: "] * (len(COLUMNS) - 2)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * 2 + numeric + [" --- "] * wide) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row(r, wide)) + " |" for r in records]
    return "\n".join(lines)


def html_table(records: list[dict[str, Any]], caption: str) -> str:
    """An HTML table (for Jupyter) with ``caption`` above it; numbers right-aligned."""
    header = columns(records)
    wide = len(header) > len(COLUMNS)
    align = ["left"] * 2 + ["right"] * (len(COLUMNS) - 2) + ["left"] * wide
    head = "".join(f'<th style="text-align:{a}">{html.escape(c)}</th>' for c, a in zip(header, align))
    body = "".join(
        "<tr>"
        + "".join(f'<td style="text-align:{a}">{html.escape(c)}</td>' for c, a in zip(row(r, wide), align))
        + "</tr>"
        for r in records
    )
    notes = "".join(f"<li>failed: {html.escape(line)}</li>" for line in failures(records))
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )
