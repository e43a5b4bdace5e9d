"""The learning-rate log never stops a run: with ``trainer.logger: false`` fit still trains."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_fit_without_a_logger_trains(tmp_path, write_config, run_selftt):
    config = write_config(extra={"trainer": {"logger": False, "max_steps": 2, "default_root_dir": str(tmp_path / "run")}})
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LearningRateMonitor" not in result.stderr
    assert list((tmp_path / "run").rglob("last.ckpt"))
