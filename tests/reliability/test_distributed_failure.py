"""A rank of a 2-process DDP run (gloo, CPU) dies or raises: the others exit soon, naming it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

FAULTS = str(Path(__file__).resolve().parent)


def _run_ddp(tmp_path, write_config, run_selftt, pythonpath_env, how: str, rank: int, timeout_s: float = 20.0):
    config = write_config(
        strategy="ddp",
        devices=2,
        max_steps=8,
        val_check_interval=100,
        callbacks=[{"class_path": "faults.FailAt", "init_args": {"step": 2, "how": how, "rank": rank}}],
        extra={"watchdog": {"timeout": timeout_s, "interval": 0.5}},
    )
    start = time.monotonic()
    # timeout: the whole run; a hang would take the 30-minute process-group timeout
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path, timeout=240, env=pythonpath_env(FAULTS))
    return result, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "rank", "expected"),
    [
        ("raise", 1, "rank 1 failed: RuntimeError: injected failure on rank 1"),
        ("kill", 1, "rank 1"),
        ("raise", 0, "injected failure on rank 0"),
        ("kill", 0, "rank 0"),
    ],
    ids=["rank1-raises", "rank1-killed", "rank0-raises", "rank0-killed"],
)
def test_a_failed_rank_ends_the_run_with_its_name(
    tmp_path, write_config, run_selftt, pythonpath_env, how, rank, expected
):
    result, seconds = _run_ddp(tmp_path, write_config, run_selftt, pythonpath_env, how, rank)
    stderr = result.stderr
    assert result.returncode != 0, stderr[-2000:]
    assert expected in stderr, stderr[-3000:]
    assert seconds < 200, f"took {seconds:.0f} s"
    error_lines = [line for line in stderr.splitlines() if line.startswith("selftt: error")]
    assert error_lines, stderr[-3000:]
    print(f"{seconds:.1f}s", *error_lines, sep="\n")
    assert all(f"rank {rank}" in line for line in error_lines), error_lines
