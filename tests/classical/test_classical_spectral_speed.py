"""What keeps the spectral right-hand sides cheap: small powers as products, one transform per field."""

import numpy as np

from pdesolve.problem import Grid, GridField, d, laplacian


def test_small_integer_powers_match_numpy_power():
    values = np.random.default_rng(0).standard_normal((16, 16))  # negative bases: numpy's slow pow() path
    field = GridField(values, Grid((0.0, 0.0), (1.0, 1.0), (16, 16), (True, True), "spectral"))
    for exponent in (2, 3, 4):
        np.testing.assert_allclose((field**exponent).values, np.power(values, exponent), rtol=1e-14, atol=0)


def test_derivatives_of_one_field_share_its_transform():
    grid = Grid((0.0, 0.0), (2 * np.pi, 2 * np.pi), (16, 12), (True, True), "spectral")
    x, y = grid.coordinates()
    u = GridField(np.sin(2 * x) * np.cos(3 * y), grid)
    ux = d(u, "x").values
    transform = u._rfft[1]
    uy, lap = d(u, "y").values, laplacian(u).values
    assert u._rfft[1] is transform  # computed once
    np.testing.assert_allclose(ux, 2 * np.cos(2 * x) * np.cos(3 * y), atol=1e-12)
    np.testing.assert_allclose(uy, -3 * np.sin(2 * x) * np.sin(3 * y), atol=1e-12)
    np.testing.assert_allclose(lap, -13 * np.sin(2 * x) * np.cos(3 * y), atol=1e-11)
    u.values = np.cos(x) + 0 * y  # new values: a new transform
    np.testing.assert_allclose(d(u, "x").values, -np.sin(x) + 0 * y, atol=1e-12)
