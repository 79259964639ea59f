"""Triton kernels for the CUDA hot loops of CG and multigrid, used where triton is installed.

Each kernel has a torch equivalent beside its caller (the CPU path, which the tests exercise); a
caller asks :func:`usable` first. ``TRITON_INTERPRET=1`` runs the kernels on CPU tensors (slowly), which
is how they are checked without a GPU. Stencil and ELLPACK kernels specialise on the divisibility of their
sizes (aligned, vectorised loads), so a new kind of shape compiles once.
Scalars that must keep float64 precision (``1/h²``, ``α``) travel
as one-element device tensors, never as Python floats (triton would pass those as float32).

- :func:`star_stencil`: ``y = A x`` for the 5-/7-point operator of :class:`~pdesolve.linalg.stencil.StencilOperator`.
- :func:`box_stencil`: ``y = A x`` for the 9-/27-point operator of :class:`~pdesolve.linalg.box_stencil.BoxStencil`.
- :func:`ell_matvec`: ``y = A x`` for a stored matrix in ELLPACK form (coalesced loads; Kincaid et al. 1989).
- :func:`cg_update` and :func:`cg_finish`: one PCG step's vector updates with its dot products, and its scalars.
"""

from __future__ import annotations

import os

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU machines: the torch paths run instead
    triton = None

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
BLOCK = 1024
FINISH_BLOCK = 1024


def usable(*tensors: torch.Tensor) -> bool:
    """Whether the kernels can run on these (single-column, contiguous) tensors."""
    return (
        triton is not None
        and all((t.is_cuda or INTERPRET) and t.is_contiguous() for t in tensors)
        and tensors[0].dtype in (torch.float32, torch.float64)
    )


def blocks(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK


def _grid3(shape: tuple[int, ...]) -> tuple[int, int, int]:
    return (1,) * (3 - len(shape)) + tuple(shape)


if triton is not None:

    @triton.jit
    def _coefficient(ptr, offset, mask, ARRAY: tl.constexpr):
        if ARRAY:
            value = tl.load(ptr + offset, mask=mask, other=0.0)
        else:
            value = tl.load(ptr)
        return value

    @triton.jit
    def _pair(x_ptr, c_ptr, idx, inside, i, n, stride, ARRAY: tl.constexpr):
        """``c(i) x(i+e) + c(i-e) x(i-e)`` along one axis, zero past the box."""
        up = inside & (i + 1 < n)
        down = inside & (i >= 1)
        x_up = tl.load(x_ptr + idx + stride, mask=up, other=0.0)
        x_down = tl.load(x_ptr + idx - stride, mask=down, other=0.0)
        c_up = _coefficient(c_ptr, idx, up, ARRAY)
        c_down = _coefficient(c_ptr, idx - stride, down, ARRAY)
        return c_up * x_up + c_down * x_down

    @triton.jit
    def _star_kernel(
        x_ptr,
        y_ptr,
        d_ptr,
        c0_ptr,
        c1_ptr,
        c2_ptr,
        n0,
        n1,
        n2,
        size,
        HAS0: tl.constexpr,
        D_ARRAY: tl.constexpr,
        C0_ARRAY: tl.constexpr,
        C1_ARRAY: tl.constexpr,
        C2_ARRAY: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        inside = idx < size
        i2 = idx % n2
        i1 = (idx // n2) % n1
        x = tl.load(x_ptr + idx, mask=inside, other=0.0)
        acc = _coefficient(d_ptr, idx, inside, D_ARRAY) * x
        acc += _pair(x_ptr, c2_ptr, idx, inside, i2, n2, 1, C2_ARRAY)
        acc += _pair(x_ptr, c1_ptr, idx, inside, i1, n1, n2, C1_ARRAY)
        if HAS0:
            acc += _pair(x_ptr, c0_ptr, idx, inside, idx // (n1 * n2), n0, n1 * n2, C0_ARRAY)
        tl.store(y_ptr + idx, acc, mask=inside)

    @triton.jit
    def _box_kernel(
        c_ptr, x_ptr, y_ptr, n0, n1, n2, size,
        DIM: tl.constexpr, POINTS: tl.constexpr, CENTER: tl.constexpr, BLOCK: tl.constexpr,
    ):  # fmt: skip
        idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        inside = idx < size
        i2 = idx % n2
        i1 = (idx // n2) % n1
        i0 = idx // (n1 * n2)
        acc = tl.load(c_ptr + CENTER * size + idx, mask=inside, other=0.0) * tl.load(
            x_ptr + idx, mask=inside, other=0.0
        )
        for t in tl.static_range(POINTS):
            if t != CENTER:
                d2 = t % 3 - 1
                d1 = (t // 3) % 3 - 1
                d0 = t // 9 - (DIM - 2)  # 0 in 2D
                ok = inside & (i2 + d2 >= 0) & (i2 + d2 < n2) & (i1 + d1 >= 0) & (i1 + d1 < n1)
                ok = ok & (i0 + d0 >= 0) & (i0 + d0 < n0)
                c = tl.load(c_ptr + t * size + idx, mask=ok, other=0.0)
                acc += c * tl.load(x_ptr + idx + (d0 * n1 + d1) * n2 + d2, mask=ok, other=0.0)
        tl.store(y_ptr + idx, acc, mask=inside)

    @triton.jit
    def _ell_kernel(values_ptr, columns_ptr, x_ptr, y_ptr, rows, WIDTH: tl.constexpr, BLOCK: tl.constexpr):
        idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        inside = idx < rows
        acc = tl.zeros([BLOCK], dtype=values_ptr.dtype.element_ty)
        for k in tl.static_range(WIDTH):
            column = tl.load(columns_ptr + k * rows + idx, mask=inside, other=0)
            value = tl.load(values_ptr + k * rows + idx, mask=inside, other=0.0)
            acc += value * tl.load(x_ptr + column, mask=inside, other=0.0)
        tl.store(y_ptr + idx, acc, mask=inside)

    @triton.jit
    def _cg_update_kernel(
        x_ptr, p_ptr, r_ptr, ap_ptr, inv_ptr, z_ptr, state_ptr, partial_ptr, size,
        MODE: tl.constexpr, INV_ARRAY: tl.constexpr, BLOCK: tl.constexpr,
    ):  # fmt: skip
        pid = tl.program_id(0)
        idx = pid * BLOCK + tl.arange(0, BLOCK)
        inside = idx < size
        curvature = tl.load(state_ptr + 0)
        rr = tl.load(state_ptr + 1)
        rz = tl.load(state_ptr + 3)
        active = (rr > tl.load(state_ptr + 6)) & (curvature > 0)
        alpha = tl.where(active, rz / tl.where(active, curvature, 1.0), 0.0)
        p = tl.load(p_ptr + idx, mask=inside, other=0.0)
        r = tl.load(r_ptr + idx, mask=inside, other=0.0) - alpha * tl.load(ap_ptr + idx, mask=inside, other=0.0)
        x = tl.load(x_ptr + idx, mask=inside, other=0.0)
        tl.store(x_ptr + idx, x + alpha.to(x.dtype) * p.to(x.dtype), mask=inside)
        tl.store(r_ptr + idx, r, mask=inside)
        tl.store(partial_ptr + 2 * pid, tl.sum(r * r, axis=0))
        if MODE == 1:  # Jacobi: z = D⁻¹ r
            z = r * _coefficient(inv_ptr, idx, inside, INV_ARRAY)
            tl.store(z_ptr + idx, z, mask=inside)
            tl.store(partial_ptr + 2 * pid + 1, tl.sum(r * z, axis=0))
        if MODE == 0:  # no preconditioner: z is r
            tl.store(partial_ptr + 2 * pid + 1, tl.sum(r * r, axis=0))

    @triton.jit(do_not_specialize=["nblocks"])
    def _cg_finish_kernel(
        partial_ptr, state_ptr, record_ptr, counter_ptr, nblocks, RZ_SUMMED: tl.constexpr, BLOCK: tl.constexpr
    ):
        offsets = tl.arange(0, BLOCK)
        rr_acc = tl.zeros([BLOCK], dtype=partial_ptr.dtype.element_ty)
        rz_acc = tl.zeros([BLOCK], dtype=partial_ptr.dtype.element_ty)
        for start in range(0, nblocks, BLOCK):
            mask = start + offsets < nblocks
            rr_acc += tl.load(partial_ptr + 2 * (start + offsets), mask=mask, other=0.0)
            rz_acc += tl.load(partial_ptr + 2 * (start + offsets) + 1, mask=mask, other=0.0)
        rr = tl.sum(rr_acc, axis=0)
        if RZ_SUMMED:
            rz = tl.sum(rz_acc, axis=0)
        else:
            rz = tl.load(state_ptr + 2)
        rz_before = tl.load(state_ptr + 3)
        beta = tl.where(rz_before > 0, rz / tl.where(rz_before > 0, rz_before, 1.0), 0.0)
        step = tl.load(counter_ptr)
        tl.store(record_ptr + 3 * step, tl.load(state_ptr + 0))
        tl.store(record_ptr + 3 * step + 1, rr)
        tl.store(record_ptr + 3 * step + 2, rz)
        tl.store(state_ptr + 1, rr)
        tl.store(state_ptr + 2, rz)
        tl.store(state_ptr + 3, rz)
        tl.store(state_ptr + 5, beta)
        tl.store(counter_ptr, step + 1)


def star_stencil(
    x: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...], diagonal: torch.Tensor, couplings: list[torch.Tensor]
) -> None:
    """``y = A x`` for a 2D/3D star stencil; coefficients are full arrays or one-element tensors."""
    n0, n1, n2 = _grid3(shape)
    c = [couplings[0]] * (3 - len(couplings)) + list(couplings)
    flags = [t.numel() > 1 for t in c]
    _star_kernel[(blocks(x.numel()),)](
        x, y, diagonal, c[0], c[1], c[2], n0, n1, n2, x.numel(),
        HAS0=len(shape) == 3, D_ARRAY=diagonal.numel() > 1,
        C0_ARRAY=flags[0], C1_ARRAY=flags[1], C2_ARRAY=flags[2], BLOCK=BLOCK,
    )  # fmt: skip


def box_stencil(x: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...], coefficients: torch.Tensor) -> None:
    """``y = A x`` for a 2D/3D compact stencil with coefficients of shape ``(3^d, *shape)``."""
    n0, n1, n2 = _grid3(shape)
    _box_kernel[(blocks(x.numel()),)](
        coefficients, x, y, n0, n1, n2, x.numel(),
        DIM=len(shape), POINTS=3 ** len(shape), CENTER=(3 ** len(shape) - 1) // 2, BLOCK=BLOCK,
    )  # fmt: skip


def ell_matvec(values: torch.Tensor, columns: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> None:
    """``y = A x`` for a matrix in ELLPACK form: ``values[k, i]`` at column ``columns[k, i]`` (padding: zeros)."""
    rows = y.numel()
    _ell_kernel[(blocks(rows),)](values, columns, x, y, rows, WIDTH=values.shape[0], BLOCK=BLOCK)


def cg_update(
    x: torch.Tensor,
    p: torch.Tensor,
    r: torch.Tensor,
    ap: torch.Tensor,
    inverse: torch.Tensor | None,
    z: torch.Tensor | None,
    state: torch.Tensor,
    partial: torch.Tensor,
    mode: int,
) -> None:
    """``x += αp, r -= αAp`` (``α = rᵀz / pᵀAp``, zero once converged) and per-block ``rᵀr``, ``rᵀz``.

    ``mode`` 0: no preconditioner (``z = r``); 1: Jacobi (``z = D⁻¹ r`` written); 2: any other (``rᵀr`` only).
    """
    inverse = state if inverse is None else inverse
    _cg_update_kernel[(blocks(x.numel()),)](
        x, p, r, ap, inverse, r if z is None else z, state, partial, x.numel(),
        MODE=mode, INV_ARRAY=inverse.numel() > 1, BLOCK=BLOCK,
    )  # fmt: skip


def cg_finish(partial: torch.Tensor, state: torch.Tensor, record: torch.Tensor, counter: torch.Tensor, rz_summed: bool):
    """Sum the partial dots, set ``β``, roll ``rᵀz`` and append (pᵀAp, rᵀr, rᵀz) to ``record[counter]``."""
    _cg_finish_kernel[(1,)](partial, state, record, counter, partial.shape[0], RZ_SUMMED=rz_summed, BLOCK=FINISH_BLOCK)
