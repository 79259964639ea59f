"""Grid functions, Gaussian random fields and thresholded fields."""

import numpy as np
import torch

from pdesolve.problem import Coords, Family, GaussianRandomField, Grid, GridFunction, Thresholded


def test_grid_function_is_exact_on_linear_functions():
    grid = Grid((0.0, -1.0), (2.0, 1.0), (5, 7))
    x, y = grid.coordinates()
    f = GridFunction(grid, 2 * x - 3 * y + 1)
    rng = np.random.default_rng(1)
    px, py = rng.uniform(0, 2, 50), rng.uniform(-1, 1, 50)
    np.testing.assert_allclose(f(Coords([px, py])), 2 * px - 3 * py + 1, atol=1e-12)
    values = f(Coords([torch.as_tensor(px), torch.as_tensor(py)]))
    assert torch.is_tensor(values) and values.dtype == torch.float64


def test_periodic_grid_function_wraps_around():
    grid = Grid((0.0,), (1.0,), (8,), (True,))
    f = GridFunction(grid, np.arange(8.0))
    np.testing.assert_allclose(f(Coords([np.array([0.25, 1.25, -0.75])])), [2.0, 2.0, 2.0])
    # between the last node (7/8, value 7) and the period's end (value of node 0 = 0)
    np.testing.assert_allclose(f(Coords([np.array([15 / 16])])), [3.5])


def test_random_fields_are_deterministic_per_seed():
    family = Family(a=GaussianRandomField((0.0, 0.0), (1.0, 1.0), 16), b=GaussianRandomField((0.0,), (1.0,), 16))
    first, again, other = family.draw(3), family.draw(3), family.draw(4)
    for name in ("a", "b"):
        assert np.array_equal(first[name].values, again[name].values)
        assert not np.allclose(first[name].values, other[name].values)


def grid_variance(field: GaussianRandomField) -> float:
    """Σ λ_k / |Ω| over the modes the sampler uses (mean-free)."""
    lengths = np.array(field.upper) - np.array(field.lower)
    if field.boundary == "periodic":
        grid = field.grid()
        ks = np.meshgrid(*[grid.wavenumbers(k) for k in range(grid.dim)], indexing="ij")
    else:
        ks = np.meshgrid(*[np.pi * np.arange(field.resolution) / h for h in lengths], indexing="ij")
    eigen = field.sigma**2 * (sum(k**2 for k in ks) + field.tau**2) ** (-field.alpha)
    eigen[(0,) * len(ks)] = 0.0
    return eigen.sum() / np.prod(lengths)


def test_random_field_variance_matches_the_covariance():
    for boundary in ("periodic", "neumann"):
        field = GaussianRandomField((0.0, 0.0), (1.0, 2.0), 24, alpha=2.0, tau=3.0, sigma=5.0, boundary=boundary)
        rng = np.random.default_rng(0)
        samples = np.stack([field.sample(rng).values for _ in range(400)])
        measured = samples.var(axis=0).mean()
        assert abs(measured / grid_variance(field) - 1) < 0.08, (boundary, measured, grid_variance(field))
        assert abs(samples.mean()) < 0.1 * np.sqrt(measured)


def test_thresholded_field_takes_two_values():
    coefficient = Thresholded(GaussianRandomField((0.0, 0.0), (1.0, 1.0), 33, boundary="neumann"), high=12, low=3)
    values = coefficient.sample(np.random.default_rng(7)).values
    assert set(np.unique(values)) == {3.0, 12.0}
    assert 0.1 < (values == 12).mean() < 0.9
