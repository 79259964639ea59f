"""Errors that the command line reports as one line with exit code 2."""

from __future__ import annotations


class PdesolveError(Exception):
    """A user-facing error: bad input, a solver that does not apply, a diverging run."""


class ProblemError(PdesolveError):
    """A problem file that does not import, defines no problem or is inconsistent."""


class NotApplicableError(PdesolveError):
    """A solver was asked for a problem it cannot solve."""


class NotLinearError(NotApplicableError):
    """A residual was assembled into a matrix but is not affine in the unknown."""


class DivergenceError(PdesolveError):
    """A run produced NaN or infinite values."""
