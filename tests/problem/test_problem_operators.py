"""Operators on grid fields (finite differences, spectral) and network fields against exact derivatives."""

import numpy as np
import pytest
import torch

from pdesolve.problem import Grid, GridField, NetworkField, d, div, grad, inverse_laplacian, laplacian

# u = sin(x) exp(y/2) and a = 1 + x² y on [0, 1]²: analytic first/second derivatives and div(a grad u)


def exact_fields(x, y):
    u = np.sin(x) * np.exp(y / 2)
    ux, uy = np.cos(x) * np.exp(y / 2), 0.5 * u
    uxx, uyy = -u, 0.25 * u
    a, ax, ay = 1 + x**2 * y, 2 * x * y, x**2
    flux_div = a * (uxx + uyy) + ax * ux + ay * uy
    return {"u": u, "ux": ux, "uxx": uxx, "lap": uxx + uyy, "a": a, "div_a_grad": flux_div}


def fd_errors(n: int) -> dict[str, float]:
    grid = Grid((0.0, 0.0), (1.0, 1.0), (n, n))
    x, y = grid.coordinates()
    f = exact_fields(x, y)
    u = GridField(f["u"], grid)
    interior = (slice(1, -1), slice(1, -1))
    computed = {
        "ux": d(u, "x").values,
        "uxx": d(u, "x", 2).values,
        "lap": laplacian(u).values[interior],
        "div_a_grad": div(f["a"] * grad(u)).values[interior],
    }
    exact = {"ux": f["ux"], "uxx": f["uxx"], "lap": f["lap"][interior], "div_a_grad": f["div_a_grad"][interior]}
    return {k: np.abs(computed[k] - exact[k]).max() for k in computed}


def test_finite_differences_converge_at_second_order():
    coarse, fine = fd_errors(17), fd_errors(33)
    for key in coarse:
        order = np.log2(coarse[key] / fine[key])
        assert 1.8 < order < 2.3, (key, order, coarse[key], fine[key])
    assert fine["div_a_grad"] < 5e-3


def test_periodic_finite_differences_converge_everywhere():
    errors = []
    for n in (32, 64):
        grid = Grid((0.0,), (2 * np.pi,), (n,), (True,))
        (x,) = grid.coordinates()
        u = GridField(np.exp(np.sin(x)), grid)
        exact_lap = (np.cos(x) ** 2 - np.sin(x)) * np.exp(np.sin(x))
        errors.append(np.abs(laplacian(u).values - exact_lap).max())
    assert 1.9 < np.log2(errors[0] / errors[1]) < 2.1


def test_torch_values_match_numpy_values():
    grid = Grid((0.0, 0.0), (1.0, 1.0), (9, 9))
    x, y = grid.coordinates()
    f = exact_fields(x, y)
    batch = np.stack([f["u"], 2 * f["u"]])  # a batch dimension in front of the grid
    expected = div(f["a"] * grad(GridField(batch, grid))).values
    got = div(torch.as_tensor(f["a"]) * grad(GridField(torch.as_tensor(batch), grid))).values
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)


def test_spectral_derivatives_are_exact():
    n = 48
    grid = Grid((0.0, 0.0), (2 * np.pi, 2 * np.pi), (n, n), (True, True), "spectral")
    x, y = grid.coordinates()
    s, c = np.sin(x), np.cos(x)
    u_values = np.exp(s) * np.cos(2 * y)
    u = GridField(u_values, grid)
    np.testing.assert_allclose(d(u, "x").values, c * u_values, atol=1e-12)
    np.testing.assert_allclose(d(u, "y", 2).values, -4 * u_values, atol=1e-12)
    lap = (c**2 - s - 4) * u_values
    np.testing.assert_allclose(laplacian(u).values, lap, atol=1e-12)
    np.testing.assert_allclose(inverse_laplacian(GridField(lap, grid)).values, u_values - u_values.mean(), atol=1e-12)
    torch_lap = laplacian(GridField(torch.as_tensor(u_values), grid)).values
    np.testing.assert_allclose(torch_lap.numpy(), lap, atol=1e-12)


def network_field(n: int = 50):
    torch.manual_seed(0)
    coords = {k: torch.rand(n, dtype=torch.float64, requires_grad=True) for k in ("x", "y")}
    values = torch.sin(coords["x"]) * torch.exp(coords["y"] / 2)
    return NetworkField(values, coords), coords


def test_network_field_derivatives_are_exact():
    u, coords = network_field()
    x, y = (c.detach().numpy() for c in coords.values())
    f = exact_fields(x, y)
    a = 1 + coords["x"] ** 2 * coords["y"]  # a coefficient that depends on the coordinates: autograd sees ∇a
    checks = {
        "ux": d(u, "x"),
        "uxx": d(u, "x", 2),
        "lap": laplacian(u),
        "div_a_grad": div(a * grad(u)),
    }
    for key, field in checks.items():
        np.testing.assert_allclose(field.values.detach().numpy(), f[key], atol=1e-13, err_msg=key)
    assert checks["lap"].values.requires_grad  # differentiable further, as PINN losses need


def test_inverse_laplacian_refuses_network_fields():
    from pdesolve.errors import NotApplicableError

    u, _ = network_field(5)
    with pytest.raises(NotApplicableError, match="inverse_laplacian"):
        inverse_laplacian(u)


def test_torch_operators_follow_their_grid():
    """Regression: torch copies of stencils were cached by ``id()``, which a new grid can reuse."""
    for length in np.linspace(1.0, 50.0, 60):
        grid = Grid((0.0,), (length,), (9,))
        v = np.linspace(0.0, 1.0, 9) ** 2
        got = d(GridField(torch.as_tensor(v), grid), "x").values.numpy()
        np.testing.assert_allclose(got, d(GridField(v, grid), "x").values, atol=1e-12)
        del grid
