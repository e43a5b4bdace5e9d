"""Launches beyond one process: torchrun with two (simulated) nodes, a world size that does not
match the config, FSDP with a 4-bit base, and the SLURM script."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from selftt.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(args: list[str], cwd: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


@pytest.mark.slow
def test_two_nodes_launched_by_torchrun_train_as_one_ddp_run(tmp_path, write_config):
    config = write_config(strategy="ddp", devices=1, num_nodes=2)
    port = _free_port()
    nodes = [
        _torchrun(
            ["--nnodes", "2", "--node_rank", str(rank), "--nproc_per_node", "1", "--master_addr", "127.0.0.1",
             "--master_port", str(port), "-m", "selftt", "fit", "--config", str(config)],
            tmp_path,
        )  # fmt: skip
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    assert "all 2 ranks hold identical adapters" in outputs[0]
    last = tmp_path / "logs" / "run" / "version_0" / "checkpoints" / "last.ckpt"
    rng = torch.load(last, weights_only=True)["callbacks"]["TrainingRNGState"]
    assert rng["world_size"] == 2 and sorted(rng["per_rank"]) == [0, 1]
    assert (tmp_path / "logs" / "run" / "version_0" / "adapter" / "adapter_model.safetensors").is_file()


def test_torchrun_world_size_not_nodes_times_devices_is_refused_in_one_line(tmp_path, write_config):
    config = write_config(strategy="ddp", devices=1)  # num_nodes 1 x devices 1, but torchrun starts 2
    run = _torchrun(
        ["--nnodes", "1", "--nproc_per_node", "2", "--master_port", str(_free_port()),
         "-m", "selftt", "fit", "--config", str(config)],
        tmp_path,
    )  # fmt: skip
    output = run.communicate(timeout=300)[0]  # not a hang
    assert run.returncode != 0
    errors = [line for line in output.splitlines() if "selftt: error" in line]
    assert len(errors) == 2, output[-3000:]  # one line per process, each naming its rank
    for line in errors:
        assert "config key 'trainer.num_nodes': torchrun started 2 processes (WORLD_SIZE)" in line
        assert "trainer.num_nodes 1 x trainer.devices 1 = 1" in line
    assert not (tmp_path / "logs").exists()


def test_fsdp_with_a_4bit_base_is_refused_before_any_process_starts(make_run):
    from lightning.pytorch.strategies import FSDPStrategy

    from selftt.training.trainer import SelfTTTrainer

    module, data, _ = make_run(quantization="4bit")
    trainer = SelfTTTrainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False)
    trainer._accelerator_connector.strategy = FSDPStrategy()  # Lightning allows FSDP on GPUs only
    with pytest.raises(ConfigError, match=r"'model.quantization'.*fsdp.*issue 20855.*ddp with quantization 4bit"):
        trainer.fit(module, datamodule=data)
    assert module.model is None, "refused before the model was loaded"


def test_slurm_script_follows_lightnings_requirements():
    script = (REPO / "scripts" / "slurm_multinode.sbatch").read_text(encoding="utf-8")
    assert script.startswith("#!/bin/bash\n")
    assert "#SBATCH --nodes=" in script and "#SBATCH --ntasks-per-node=" in script
    # Lightning: one task per device, launched by srun; num_nodes/devices from SLURM's own values
    assert "srun python -m selftt fit" in script
    assert '--trainer.num_nodes "$SLURM_NNODES"' in script
    assert '--trainer.devices "$SLURM_NTASKS_PER_NODE"' in script
    assert "--trainer.strategy ddp" in script
    assert subprocess.run(["bash", "-n", str(REPO / "scripts" / "slurm_multinode.sbatch")]).returncode == 0
