"""Half-precision overflow never passes silently (issue 10, point 5): inf/NaN logits in generation
and a non-finite evaluation loss stop the run with one line naming the dtype and one that works."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from selftt.modules.finite_logits import NonFiniteLogitsError
from selftt.modules.generation import BatchedGenerator, GenerationSettings

PROMPTS = ["shot one says hello and shot two says goodbye to everyone here today\nInput: a", "same b"]


def _overflowing(tiny_model, dtype):
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=dtype).eval()
    with torch.no_grad():  # finite weights whose products overflow the dtype, as fp16 Gemma 3's do
        model.lm_head.weight.fill_(torch.finfo(dtype).max / 4)
    return model, AutoTokenizer.from_pretrained(tiny_model)


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_float16_overflow_in_generation_names_the_dtype_and_a_fix(tiny_model, prefix_cache):
    model, tokenizer = _overflowing(tiny_model, torch.float16)
    generator = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=4, prefix_cache=prefix_cache))
    prompts = [PROMPTS[0], PROMPTS[0][:-1] + "b"]
    with pytest.raises(NonFiniteLogitsError, match=r"float16.*(bfloat16|float32)"):
        generator.generate(prompts)


def test_any_dtype_names_itself(tiny_model):
    model, tokenizer = _overflowing(tiny_model, torch.float32)
    with pytest.raises(NonFiniteLogitsError, match="float32"):
        BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=2)).generate(["Hello"])


def test_finite_logits_pass(tiny_model):
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    out = BatchedGenerator(model, AutoTokenizer.from_pretrained(tiny_model), GenerationSettings(max_new_tokens=2))
    assert len(out.generate(["Hello"])) == 1


def test_a_non_finite_validation_loss_stops_validate(tiny_model, math_file, tmp_path):
    from functools import partial

    from lightning.pytorch import Trainer

    from selftt.datamodules.components import DataComponent
    from selftt.datamodules.datamodule import SelfTTDataModule
    from selftt.modules import LoraSettings, SelfTTModule
    from selftt.training.nonfinite_loss import NonFiniteLossError, StopOnNonFiniteLoss

    module = SelfTTModule(tiny_model, quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0),
                          optimizer=partial(torch.optim.AdamW, lr=1e-3))
    module.configure_model()
    with torch.no_grad():
        module.model.base_model.model.lm_head.weight.fill_(float("nan"))
    data = SelfTTDataModule(task="math", components=[DataComponent(name="src", path=str(math_file), lang="en")],
                            val_holdout=4, tokenizer=tiny_model, batch_size=4, max_length=256)
    trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path, callbacks=[StopOnNonFiniteLoss()])
    with pytest.raises(NonFiniteLossError, match=r"val/loss is nan .*float32"):
        trainer.validate(module, datamodule=data)
