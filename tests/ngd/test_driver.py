"""The damped Gauss–Newton driver and its damping policies."""

import math

import torch

from pdesolve.ngd import DampedGaussNewton, Damping, Multiplicative, Nielsen, SVDSystem, Trial, TrustRegion


class Exponentials:
    """Fit ``a e^{bt}`` to data made with (a, b) = (2, -1.5): a small nonlinear least-squares problem."""

    def __init__(self) -> None:
        self.t = torch.linspace(0, 2, 30, dtype=torch.float64)
        self.y = 2 * torch.exp(-1.5 * self.t)

    def residual(self, p: torch.Tensor) -> torch.Tensor:
        return self.y - p[0] * torch.exp(p[1] * self.t)

    def cost(self, p: torch.Tensor) -> float:
        return float(self.residual(p).square().sum())

    def linearize(self, p: torch.Tensor) -> SVDSystem:
        e = torch.exp(p[1] * self.t)
        J = torch.stack([e, p[0] * self.t * e], dim=1)  # ∂u/∂p, so that r(p + δ) ≈ r - Jδ
        return SVDSystem.factor(J, self.residual(p))

    def propose(self, p, system, delta, info, damping):
        trial = p + delta
        cost = self.cost(trial)
        return Trial(trial, cost) if cost < self.cost(p) else None


def test_the_driver_converges_quadratically_from_a_poor_start():
    problem = Exponentials()
    start = torch.tensor([0.5, 0.5], dtype=torch.float64)
    driver = DampedGaussNewton(problem, Nielsen(), max_steps=50, atol=1e-26)
    state = driver.init(start, problem.cost(start), 1e-3)
    costs = [state.cost]
    while not driver.terminate(state):
        state = driver.step(state)
        costs.append(state.cost)
    assert all(b < a for a, b in zip(costs, costs[1:]))
    assert state.cost <= 1e-26 and state.iterations < 30
    torch.testing.assert_close(state.point, torch.tensor([2.0, -1.5], dtype=torch.float64), rtol=1e-12, atol=0)
    assert state.solves >= state.iterations  # refused solves are counted too


def test_a_problem_without_acceptable_steps_stalls_after_max_tries():
    problem = Exponentials()
    problem.propose = lambda *args: None
    start = torch.tensor([0.5, 0.5], dtype=torch.float64)
    driver = DampedGaussNewton(problem, Nielsen(), max_tries=5)
    state = driver.step(driver.init(start, problem.cost(start), 1e-3))
    assert state.stalled and state.solves == 5 and driver.terminate(state)
    assert math.isclose(state.damping.value, 1e-3 * 2 * 4 * 8 * 16 * 32)  # λν, ν ← 2ν five times
    assert torch.equal(state.point, start)


def test_damping_policies():
    nielsen = Nielsen()
    assert math.isclose(nielsen.accepted(Damping(1.0), 1.0).value, 1 / 3)  # a perfect model: λ/3
    assert math.isclose(nielsen.accepted(Damping(1.0), 0.5).value, 1.0)  # ρ = 1/2: kept
    assert nielsen.accepted(Damping(1e-16), 1.0).value == 0.0
    region = TrustRegion()
    assert math.isclose(region.accepted(Damping(1e-3), 0.9, 1.0).value, 1e-4)
    assert math.isclose(region.accepted(Damping(1e-3), 0.9, 0.0625).value, 2e-3)
    assert region.rejected(Damping(0.0)) == Damping(2e-9, 4.0)
    batched = Multiplicative(10.0, 4.0)
    lam = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(batched.accepted(Damping(lam)).value, lam / 4)
    torch.testing.assert_close(batched.rejected(Damping(lam)).value, lam * 10)
