"""``python -m selftt export``: PEFT adapter or merged model; merged logits equal base + adapter."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from selftt.errors import ConfigError
from selftt.training.adapter_export import PROMPT_FILE
from selftt.training.model_export import export_trained_model, merge_dtype

IDS = [[1, 50, 60, 70, 80, 90, 100, 7]]

# Loads a merged folder with peft made unimportable, and prints its logits as JSON.
_LOAD_WITHOUT_PEFT = """
import json, sys
sys.modules["peft"] = None  # 'import peft' now raises ImportError
import torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], dtype=torch.float32).eval()
with torch.no_grad():
    logits = model(input_ids=torch.tensor(json.loads(sys.argv[2]))).logits
print(json.dumps(logits.tolist()))
"""


def _logits_without_peft(folder: Path) -> torch.Tensor:
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_WITHOUT_PEFT, str(folder), json.dumps(IDS)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return torch.tensor(json.loads(done.stdout.strip().splitlines()[-1]))


def _base_plus_adapter(base: str, adapter: Path) -> torch.Tensor:
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter)
    with torch.no_grad():
        return model.eval()(input_ids=torch.tensor(IDS)).logits


def _fit(run_selftt, write_config, tmp_path) -> tuple[Path, Path]:
    config = write_config(extra={"model": {"optimizer": {"init_args": {"lr": 0.05}}}}, max_steps=4)  # checkpoint at 4
    done = run_selftt(["fit", "--config", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "logs" / "run" / "version_0"
    return config, run_dir


def test_cli_merged_export_loads_without_peft_and_equals_base_plus_adapter(
    run_selftt, write_config, tiny_model, tmp_path
):
    _, run_dir = _fit(run_selftt, write_config, tmp_path)
    config = run_dir / "config.yaml"  # the run's own config: every subcommand takes it
    assert "\nweights_only:" not in config.read_text(encoding="utf-8")
    done = run_selftt(["translate", "--config", str(config), "--print_config"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    adapter = run_dir / "adapter"
    merged = tmp_path / "merged"
    done = run_selftt(
        ["export", "--config", str(config), "--model.adapter_path", str(adapter), "--output", str(merged), "--merge"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"merged model (transformers, no peft needed) written to {merged}" in done.stdout
    files = {p.name for p in merged.iterdir()}
    assert {"model.safetensors", "config.json", "generation_config.json", PROMPT_FILE} <= files
    assert not any(name.endswith((".bin", ".pt", ".pth")) for name in files)
    assert "adapter_config.json" not in files
    record = json.loads((merged / PROMPT_FILE).read_text(encoding="utf-8"))
    assert record["merged"] is True and record["task"] == "math" and record["prompt_format"]["style"]

    expected = _base_plus_adapter(tiny_model, adapter)
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    with torch.no_grad():
        plain = base(input_ids=torch.tensor(IDS)).logits
    assert not torch.allclose(plain, expected, atol=1e-3), "the trained adapter must change the logits"
    torch.testing.assert_close(_logits_without_peft(merged), expected, atol=1e-4, rtol=1e-4)

    # The same adapter read from the run's last checkpoint merges to the same weights.
    from_ckpt = tmp_path / "merged_from_ckpt"
    done = run_selftt(
        ["export", "--config", str(config), "--ckpt_path", str(run_dir / "checkpoints" / "last.ckpt"),
         "--output", str(from_ckpt), "--merge", "true"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    torch.testing.assert_close(_logits_without_peft(from_ckpt), expected, atol=1e-4, rtol=1e-4)

    # Without --merge: a PEFT adapter folder, as fit writes it.
    peft_out = tmp_path / "peft"
    done = run_selftt(
        ["export", "--config", str(config), "--model.adapter_path", str(adapter), "--output", str(peft_out)], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (peft_out / "adapter_model.safetensors").is_file() and (peft_out / PROMPT_FILE).is_file()
    torch.testing.assert_close(_base_plus_adapter(tiny_model, peft_out), expected)


def test_cli_export_refuses_in_one_line(run_selftt, write_config, tmp_path):
    config = write_config()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("already here", encoding="utf-8")
    cases = [
        (["--output", str(tmp_path / "new")], "model.adapter_path", "needs a trained adapter"),
        (["--model.adapter_path", str(tmp_path)], "output", "required"),
        (["--model.adapter_path", str(tmp_path), "--output", str(taken)], "output", "not an empty folder"),
    ]
    for extra, key, words in cases:
        done = run_selftt(["export", "--config", str(config), *extra], tmp_path)
        assert done.returncode == 2, (extra, done.stderr[-2000:])
        lines = [line for line in done.stderr.splitlines() if line.startswith("selftt: error")]
        assert len(lines) == 1 and f"'{key}'" in lines[0] and words in lines[0], done.stderr[-2000:]
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "already here"
    assert not (tmp_path / "new").exists()


def test_qlora_merge_reloads_full_precision_weights(make_run, tiny_model, tmp_path, caplog):
    module, data, trainer = make_run(quantization="4bit", max_steps=3, lr=0.05)
    trainer.fit(module, datamodule=data)
    assert module.resolved_quantization == "4bit"
    adapter = module.export_adapter(tmp_path / "adapter")
    with caplog.at_level(logging.WARNING, logger="selftt"):
        out = export_trained_model(module, tmp_path / "merged", True, "float32", {"task": "math"})
    assert any("4-bit" in r.getMessage() and "float32" in r.getMessage() for r in caplog.records)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in config
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert not any("4bit" in type(m).__name__ for m in merged.modules())
    with torch.no_grad():
        got = merged(input_ids=torch.tensor(IDS)).logits
    torch.testing.assert_close(got, _base_plus_adapter(tiny_model, adapter), atol=1e-4, rtol=1e-4)


def test_merge_dtype_is_the_published_one_unless_given():
    class Config:
        dtype = "bfloat16"

    assert merge_dtype("auto", Config()) == torch.bfloat16
    assert merge_dtype("float32", Config()) == torch.float32
    Config.dtype = None
    assert merge_dtype("auto", Config()) == torch.float32


def test_export_into_a_folder_with_files_is_refused(make_run, tmp_path):
    module, _, _ = make_run()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="'output'.*not an empty folder"):
        export_trained_model(module, tmp_path / "out", True, "auto", {})


@pytest.mark.parametrize("dtype, in_place", [("float32", True), ("bfloat16", False)])
def test_merge_in_place_or_reloaded_gives_base_plus_adapter(make_run, tiny_model, tmp_path, monkeypatch, dtype, in_place):
    """Full-precision weights in the export dtype are merged in place (the base is not loaded
    again); another dtype reloads the base. Both equal base + adapter."""
    import selftt.training.model_export as model_export

    module, data, trainer = make_run(max_steps=3, lr=0.05)
    trainer.fit(module, datamodule=data)
    adapter = module.export_adapter(tmp_path / "adapter")
    loads = []
    real_load = model_export.load_causal_lm
    monkeypatch.setattr(model_export, "load_causal_lm", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    out = export_trained_model(module, tmp_path / "merged", True, dtype, {"task": "math"})
    assert (len(loads) == 0) == in_place
    assert module.model is None  # used up, or released before the reload
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    with torch.no_grad():
        got = merged(input_ids=torch.tensor(IDS)).logits
    tolerance = 1e-4 if in_place else 5e-2  # bfloat16 weights
    torch.testing.assert_close(got, _base_plus_adapter(tiny_model, adapter), atol=tolerance, rtol=tolerance)
