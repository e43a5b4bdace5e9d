"""Nothing from a model folder, checkpoint, config or data file runs code or writes outside the
run directory and cache unless the user says so."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from selftt.cli import cli_main
from selftt.errors import ConfigError
from selftt.modules.loading import load_causal_lm
from selftt.utils.paths import check_path_component


class _RunsCode:
    """Unpickling this object runs ``touch <marker>``: the classic poisoned-pickle payload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _model_with_custom_code(tiny_model: str, folder: Path, marker: Path) -> Path:
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "custom"
    config["auto_map"] = {
        "AutoConfig": "configuration_custom.CustomConfig",
        "AutoModelForCausalLM": "modeling_custom.CustomModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    code = f"open({str(marker)!r}, 'w').write('ran')\nfrom transformers import LlamaConfig, LlamaForCausalLM\n"
    (folder / "configuration_custom.py").write_text(code + "class CustomConfig(LlamaConfig):\n    model_type = 'custom'\n")
    (folder / "modeling_custom.py").write_text(code + "class CustomModel(LlamaForCausalLM):\n    pass\n")
    return folder


def test_model_code_runs_only_with_trust_remote_code(tmp_path, tiny_model):
    marker = tmp_path / "custom_code_ran"
    folder = _model_with_custom_code(tiny_model, tmp_path / "custom-model", marker)
    with pytest.raises(ConfigError, match="model.trust_remote_code"):
        load_causal_lm(str(folder), "none", torch.device("cpu"), torch.float32)
    assert not marker.exists()


def test_weights_come_from_safetensors_and_a_pickle_never_runs(tmp_path, tiny_model):
    marker = tmp_path / "pickle_ran"
    both = tmp_path / "both"
    shutil.copytree(tiny_model, both)
    torch.save({"weight": _RunsCode(marker)}, both / "pytorch_model.bin")  # beside model.safetensors
    load_causal_lm(str(both), "none", torch.device("cpu"), torch.float32)  # reads the safetensors file
    only_bin = tmp_path / "only-bin"
    shutil.copytree(both, only_bin)
    (only_bin / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="weights_only"):
        load_causal_lm(str(only_bin), "none", torch.device("cpu"), torch.float32)
    assert not marker.exists()


def test_a_poisoned_checkpoint_is_refused_before_anything_loads(tmp_path, write_config, capsys):
    marker = tmp_path / "checkpoint_ran"
    poisoned = tmp_path / "poisoned.ckpt"
    torch.save({"state_dict": {}, "selftt": {}, "payload": _RunsCode(marker)}, poisoned)
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--config", str(write_config()), "--ckpt_path", str(poisoned)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"selftt: error: {poisoned}: refused by torch.load(weights_only=True)")
    assert not marker.exists()
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("name", ["../outside", "a/b", "..", ".", "", "~root", "x\\y"])
def test_names_that_become_paths_cannot_leave_their_folder(name):
    with pytest.raises(ConfigError, match="plain name|non-empty"):
        check_path_component("data.val_sets[0].name", name)
    assert check_path_component("k", "xquad_de-v1.2") == "xquad_de-v1.2"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("--adapter_export.dirname", "../../escaped"),
        ("--prediction_writer.dirname", "/tmp/escaped"),
    ],
)
def test_output_folder_names_from_the_config_stay_in_the_run_directory(tmp_path, write_config, capsys, key, value):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--config", str(write_config()), key, value])
    assert exit_info.value.code == 2
    assert f"config key '{key.removeprefix('--')}'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_writes_only_into_its_run_directory_and_cache(tmp_path, write_config, run_selftt, mgsm_file):
    """Everything a fit writes lies under the logger's save_dir and the translation cache, even
    with an evaluation set named like a path ('../../escaped' becomes a plain file name)."""
    home = tmp_path / "home"
    home.mkdir()
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de", "name": "../../escaped"}], max_steps=2)
    before = {p for p in tmp_path.rglob("*")}
    env_home = {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "SELFTT_HOME": str(home / "selftt")}
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path, env=env_home)
    assert result.returncode == 0, result.stderr[-3000:]
    # matplotlib (imported by torchmetrics) builds its font list once in the user's cache folder:
    # a library's own cache, not a path any config or data file chose
    allowed = (tmp_path / "logs", tmp_path / "cache", home / ".cache" / "matplotlib")
    new = [p for p in tmp_path.rglob("*") if p not in before and p.is_file()]
    assert new, "the run wrote nothing: the test proves nothing"
    outside = [p for p in new if not any(p.is_relative_to(root) for root in allowed)]
    assert outside == [], outside
