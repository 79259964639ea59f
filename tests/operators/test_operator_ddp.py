"""DistributedDataParallel training with gloo on CPU: two processes keep identical weights and learn."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pdesolve.constraints.distributed import free_local_port
from pdesolve.operators.fno import FNO
from pdesolve.operators.training import TrainConfig, train


def heat_pairs(samples: int, n: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random periodic signals and their heat-equation smoothing ``exp(-k² t)`` at t = 0.01 (an exact operator)."""
    generator = torch.Generator().manual_seed(seed)
    k = torch.fft.rfftfreq(n, d=1.0 / n) * 2 * torch.pi
    spectrum = torch.randn(samples, 1, n // 2 + 1, generator=generator, dtype=torch.complex64) / (1 + k) ** 2
    return torch.fft.irfft(spectrum, n=n), torch.fft.irfft(spectrum * torch.exp(-(k**2) * 0.01), n=n)


def _worker(rank: int, world: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        inputs, outputs = heat_pairs(64)
        torch.manual_seed(rank)  # different initial weights: DDP must start both ranks from rank 0's
        model = FNO(1, 1, modes=6, width=8, layers=2, projection=16, periodic=(True,))
        model.set_normalization(inputs, outputs)
        config = TrainConfig(epochs=8, batch_size=8, lr=3e-2, weight_decay=0.0, progress=False)
        result = train(model, (inputs, outputs), heat_pairs(16, seed=1), config)
        torch.save({"state": model.state_dict(), "loss": result.train_loss}, os.path.join(folder, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_keep_identical_parameters_and_learn(tmp_path):
    mp.spawn(_worker, args=(2, free_local_port(), str(tmp_path)), nprocs=2, join=True)
    first, second = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name, value in first["state"].items():
        assert torch.equal(value, second["state"][name]), name
    assert first["loss"] == second["loss"]  # the reported loss is averaged over ranks
    assert first["loss"][-1] < 0.5 * first["loss"][0]
