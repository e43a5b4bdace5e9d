"""TrainingThroughput: FLOP counting, warm-up handling, and what a real fit records."""

from __future__ import annotations

import json
from functools import partial

import pytest
import torch
from lightning.pytorch import Trainer

from selftt.datamodules.components import DataComponent
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.errors import ConfigError
from selftt.modules import LoraSettings, SelfTTModule
from selftt.training.throughput import (
    TrainingThroughput,
    attention_shape,
    matmul_weights,
    model_flops_per_token,
    summarize_steps,
)


def test_model_flops_follow_palm_with_frozen_weights_costing_two_thirds():
    # 4 FLOPs per frozen weight (forward + input gradient), 6 per trainable one, PaLM's attention term
    assert model_flops_per_token(frozen=1000, trainable=10, layers=2, attn_width=8, seq_len=16) == (
        4 * 1000 + 6 * 10 + 12 * 2 * 8 * 16
    )


def test_matmul_weights_count_logical_4bit_weights_and_lora_as_trainable():
    bnb = pytest.importorskip("bitsandbytes")
    model = torch.nn.Sequential(
        bnb.nn.Linear4bit(64, 32, bias=False, quant_type="nf4"), torch.nn.Linear(32, 4, bias=False)
    )
    for p in model.parameters():
        p.requires_grad_(False)
    model[1].weight.requires_grad_(True)
    # the 4-bit weight stores two values per byte; the multiply still does 64 x 32
    assert matmul_weights(model) == (64 * 32, 32 * 4)


def test_summary_leaves_out_warmup_steps():
    steps = [
        {"tokens": 100, "padded_tokens": 120, "seconds": 10.0, "flops": 1e6, "loss": 3.0, "peak_memory_mib": 5},
        {"tokens": 100, "padded_tokens": 100, "seconds": 1.0, "flops": 1e6, "loss": 2.0, "peak_memory_mib": 7},
        {"tokens": 300, "padded_tokens": 300, "seconds": 1.0, "flops": 3e6, "loss": 1.0, "peak_memory_mib": 6},
    ]
    s = summarize_steps(steps, warmup_steps=1, peak=1e7)
    assert s["tokens_per_s"] == pytest.approx(400 / 2.0)
    assert s["mfu"] == pytest.approx(4e6 / 2.0 / 1e7)
    assert s["padding_fraction"] == 0.0
    assert s["peak_memory_mib"] == 7 and (s["first_loss"], s["last_loss"]) == (3.0, 1.0)
    assert summarize_steps(steps, warmup_steps=5, peak=None)["mfu"] is None  # all steps, no peak


@pytest.mark.parametrize("kwargs", [{"warmup_steps": -1}, {"peak_tflops": float("nan")}, {"peak_tflops": 0}])
def test_bad_settings_name_the_config_key(kwargs):
    with pytest.raises(ConfigError, match="throughput"):
        TrainingThroughput(**kwargs)


def test_fit_records_every_step_with_gradients_and_writes_json(tiny_model, math_file, tmp_path):
    module = SelfTTModule(
        tiny_model, quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0),
        optimizer=partial(torch.optim.AdamW, lr=1e-2),
    )
    data = SelfTTDataModule(
        task="math", components=[DataComponent(name="src", path=str(math_file), lang="en")],
        tokenizer=tiny_model, batch_size=4, max_length=256,
    )
    callback = TrainingThroughput(output_file="perf/throughput.json", warmup_steps=1)
    trainer = Trainer(
        accelerator="cpu", devices=1, max_steps=4, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, callbacks=[callback],
    )
    trainer.fit(module, datamodule=data)

    written = json.loads((tmp_path / "perf" / "throughput.json").read_text(encoding="utf-8"))
    steps = written["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    for step in steps:
        assert 0 < step["tokens"] <= step["padded_tokens"] and step["seconds"] > 0 and step["grad_norm"] > 0
    # LoRA's B starts at zero, so at step 1 only the B matrices get a gradient; from step 2 all do
    assert steps[0]["params_with_grad"] == steps[0]["trainable_tensors"] // 2
    assert all(s["params_with_grad"] == s["trainable_tensors"] > 0 for s in steps[1:])
    layers, width = attention_shape(module.model.config)
    frozen, trainable = matmul_weights(module.model)
    assert written["shape"]["frozen_matmul_weights"] == frozen and trainable > 0
    assert steps[0]["flops"] == steps[0]["tokens"] * model_flops_per_token(
        frozen, trainable, layers, width, steps[0]["seq_len"]
    )
    summary = written["summary"]
    assert summary["warmup_steps"] == 1 and summary["tokens"] == sum(s["tokens"] for s in steps[1:])
    assert summary["mfu"] is None  # no known peak on a CPU
    assert summary["peak_memory_mib"] > 0
