"""tests/warm_cli.py, the runner behind the ``run_selftt`` fixture: a run forked from the warm
forkserver ends like a cold ``python -m selftt`` process (status, stdout, stderr, working
directory), and a run whose environment changes an import-time variable goes cold."""

from __future__ import annotations

import os


def test_a_warm_run_ends_like_a_cold_one(tmp_path, warm_runner, run_selftt):
    (tmp_path / "bad.yaml").write_text("trainer: [1, 2\n", encoding="utf-8")  # relative: needs the cwd
    for args in (["fit", "--config", "bad.yaml"], ["fit", "--config", "missing.yaml"], ["report", "--help"]):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        warm = warm_runner.run_warm(args, tmp_path, env, timeout=300)
        cold = run_selftt(args, tmp_path, cold=True)
        assert warm.returncode == cold.returncode, (args, warm.stderr[-500:], cold.stderr[-500:])
        assert warm.stdout == cold.stdout, args
        assert warm.stderr.strip().splitlines()[-1:] == cold.stderr.strip().splitlines()[-1:], args
    assert warm_runner.run_warm(["fit", "--config", "bad.yaml"], tmp_path, env, 300).returncode == 2


def test_only_runtime_variables_keep_a_run_warm(warm_runner):
    env = warm_runner.server_env()  # another test may have changed os.environ since it started
    assert warm_runner.warm_allowed({**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_CURRENT_TEST": "x"})
    assert not warm_runner.warm_allowed({**env, "PYTHONPATH": "/fakes"})
    assert not warm_runner.warm_allowed({**env, "HF_HOME": "/elsewhere"})
    assert not warm_runner.warm_allowed({k: v for k, v in env.items() if k != "HF_HUB_OFFLINE"} | {"X_NEW": "1"})
