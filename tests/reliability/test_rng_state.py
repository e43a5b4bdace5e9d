"""Training's random state travels in checkpoints (per rank, weights-only readable) and is restored."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from selftt.training.rng_state import TrainingRNGState, collect_rng_states, set_rng_states
from selftt.training.trainer import SelfTTTrainer


def _draws() -> tuple:
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), np.random.randn(), [random.random() for _ in range(3)]


def test_every_generator_round_trips_through_a_weights_only_file(tmp_path):
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    random.gauss(0, 1)  # and in python's
    path = tmp_path / "rng.pt"
    torch.save(collect_rng_states(torch.device("cpu")), path)
    expected = _draws()
    _draws()
    set_rng_states(torch.load(path, weights_only=True), torch.device("cpu"))
    assert _draws() == expected


def _fake_trainer(rank: int, world_size: int, callbacks: list) -> SimpleNamespace:
    strategy = SimpleNamespace(root_device=torch.device("cpu"))
    return SimpleNamespace(strategy=strategy, global_rank=rank, world_size=world_size, callbacks=callbacks)


def test_selfttrainer_adds_it_before_the_checkpoint_callback(tmp_path):
    trainer = SelfTTTrainer(accelerator="cpu", logger=False, default_root_dir=tmp_path)
    kinds = [type(c) for c in trainer.callbacks]
    assert kinds.count(TrainingRNGState) == 1
    assert kinds.index(TrainingRNGState) < kinds.index(ModelCheckpoint)
    given = TrainingRNGState()
    assert SelfTTTrainer(accelerator="cpu", logger=False, callbacks=[given], default_root_dir=tmp_path).callbacks.count(
        given
    ) == 1


def test_it_moves_before_a_checkpoint_callback_that_precedes_it():
    checkpoint, rng = ModelCheckpoint(), TrainingRNGState()
    callbacks = [checkpoint, rng]
    rng.setup(_fake_trainer(0, 1, callbacks), None, "fit")
    assert callbacks == [rng, checkpoint]


def test_a_rank_missing_from_the_checkpoint_keeps_its_own_state(caplog):
    rng = TrainingRNGState()
    rng.setup(_fake_trainer(1, 2, [rng]), None, "fit")
    rng.load_state_dict({"world_size": 1, "per_rank": {0: collect_rng_states()}})
    assert rng._states is None
    assert "none for rank 1" in caplog.text


def _ddp_worker(rank: int, world_size: int, port: int, folder: str) -> None:
    from pathlib import Path

    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        folder = Path(folder)
        torch.manual_seed(100 + rank)  # every rank its own stream
        np.random.seed(200 + rank)
        random.seed(300 + rank)
        rng = TrainingRNGState()
        rng.setup(_fake_trainer(rank, world_size, [rng]), None, "fit")
        rng.on_train_batch_end(None, None, None, None, 0)
        expected = _draws()
        state = rng.state_dict()  # a collective, as in Lightning's dump_checkpoint on every rank
        if rank == 0:
            torch.save(state, folder / "state.pt")
        torch.distributed.barrier()

        resumed = TrainingRNGState()
        resumed.setup(_fake_trainer(rank, world_size, [resumed]), None, "fit")
        resumed.load_state_dict(torch.load(folder / "state.pt", weights_only=True))
        torch.manual_seed(0)
        np.random.seed(0)
        random.seed(0)
        resumed.on_train_batch_start(None, None, None, 0)
        torch.save({"expected": expected, "got": _draws()}, folder / f"rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_under_ddp_each_rank_gets_its_own_state_back(tmp_path, free_tcp_port):
    torch.multiprocessing.spawn(_ddp_worker, args=(2, free_tcp_port, str(tmp_path)), nprocs=2, join=True)
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    assert state["world_size"] == 2 and sorted(state["per_rank"]) == [0, 1]
    results = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert all(r["got"] == r["expected"] for r in results)
    assert results[0]["expected"] != results[1]["expected"]
