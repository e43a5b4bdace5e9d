"""A checkpoint or cache file whose writer is killed half-way is never left truncated in place."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from selftt.training.checkpoint_io import SafeCheckpointIO, load_weights_only
from selftt.training.trainer import SelfTTTrainer

# Rewrites one file over and over, each version complete and self-checking; prints "ready" once
# the first version is in place.
WRITER = textwrap.dedent(
    """
    import sys, torch
    from selftt.utils.atomic import write_json_atomic
    from selftt.utils.atomic import save_atomic
    kind, path = sys.argv[1], sys.argv[2]
    for version in range(10_000):
        if kind == "checkpoint":
            save_atomic({"version": version, "weights": torch.full((1_000_000,), float(version))}, path)
        else:
            write_json_atomic(path, {"version": version, "rows": [version] * 50_000})
        if version == 0:
            print("ready", flush=True)
    """
)


def _check(kind: str, path) -> int:
    """The file at ``path`` is complete: it loads and every value matches its version."""
    if kind == "checkpoint":
        data = load_weights_only(path)
        assert torch.equal(data["weights"], torch.full((1_000_000,), float(data["version"])))
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["rows"] == [data["version"]] * 50_000
    return data["version"]


@pytest.mark.parametrize("kind", ["checkpoint", "json"])
def test_a_writer_killed_at_any_moment_leaves_a_complete_file(tmp_path, kind):
    path = tmp_path / ("last.ckpt" if kind == "checkpoint" else "stats.json")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    versions = []
    for delay in (0.05, 0.23, 0.41, 0.67):  # several points in the write cycle
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, kind, str(path)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        versions.append(_check(kind, path))
    assert versions[-1] >= 1, "the writer never got past its first version: the test proves nothing"


def test_the_trainer_writes_and_reads_checkpoints_through_safe_checkpoint_io(tmp_path):
    trainer = SelfTTTrainer(accelerator="cpu", devices=1, logger=False, default_root_dir=tmp_path)
    io = trainer.strategy.checkpoint_io
    assert isinstance(io, SafeCheckpointIO)
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}, "global_step": 3}, tmp_path / "a.ckpt")
    assert io.load_checkpoint(tmp_path / "a.ckpt")["global_step"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "no temporary file left behind"


def test_an_atomically_written_folder_gets_the_usual_permissions_not_mkdtemps(tmp_path):
    import os

    from selftt.utils.atomic import write_dir_atomic, write_json_atomic

    mask = os.umask(0o022)
    try:
        out = write_dir_atomic(tmp_path / "export", lambda d: (d / "sub").mkdir() or write_json_atomic(d / "sub" / "a.json", {}))
        assert (out.stat().st_mode & 0o777) == 0o755  # mkdtemp alone would leave 0o700
        assert ((out / "sub").stat().st_mode & 0o777) == 0o755
        assert ((out / "sub" / "a.json").stat().st_mode & 0o777) == 0o644  # mkstemp alone: 0o600
    finally:
        os.umask(mask)
