from __future__ import annotations

from functools import partial

import pytest
import torch
from lightning.pytorch import Callback, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from peft import PeftModel
from transformers import AutoModelForCausalLM

from selftt.modules import LoraSettings, SelfTTModule
from selftt.training.rng_state import TrainingRNGState


def _snapshot(module, trainable: bool) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad == trainable}


@pytest.fixture
def make_resumable_run(make_run, tiny_model):
    """``make_run`` with the default LoRA settings (dropout 0.05: training draws random numbers),
    ``TrainingRNGState`` (which SelfTTTrainer and the CLI add by themselves) and the same seed."""
    assert LoraSettings().dropout > 0

    def make(max_steps: int, callbacks=(), **trainer_kwargs):
        seed_everything(0)  # the adapter's initial weights
        _, data, trainer = make_run(
            max_steps=max_steps, callbacks=[TrainingRNGState(), *callbacks], **trainer_kwargs
        )
        module = SelfTTModule(
            tiny_model,
            quantization="none",
            lora=LoraSettings(r=4, alpha=8),
            optimizer=partial(torch.optim.AdamW, lr=1e-2),
        )
        return module, data, trainer

    return make


def _assert_same_adapters(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys() and a
    for name, value in a.items():
        assert torch.equal(value, b[name]), f"{name}: differs by {(value - b[name]).abs().max().item():.3g}"


def test_configure_model_is_idempotent(make_run):
    module, _, _ = make_run()
    module.configure_model()
    first = module.model
    module.configure_model()
    assert module.model is first


def test_training_changes_adapter_and_not_base_weights(make_run):
    module, data, trainer = make_run(max_steps=5)
    module.configure_model()
    adapter_before, base_before = _snapshot(module, True), _snapshot(module, False)
    assert adapter_before and all("lora_" in n for n in adapter_before)
    trainer.fit(module, datamodule=data)
    adapter_after, base_after = _snapshot(module, True), _snapshot(module, False)
    assert any(not torch.equal(adapter_before[n], adapter_after[n]) for n in adapter_before)
    assert all(torch.equal(base_before[n], base_after[n]) for n in base_before)


class _GradCheck(Callback):
    """Records, for every backward, the trainable parameters that got no gradient."""

    def __init__(self):
        self.missing: list[list[str]] = []

    def on_after_backward(self, trainer, pl_module):
        self.missing.append(
            [n for n, p in pl_module.named_parameters() if p.requires_grad and p.grad is None]
        )


def test_4bit_trains_after_validation_with_gradients_everywhere(make_run):
    """Guards the bitsandbytes CPU repacking bug: an eval forward must not kill base-layer backward."""
    check = _GradCheck()
    module, data, trainer = make_run(
        quantization="4bit", max_steps=4, val_check_interval=2, num_sanity_val_steps=1, callbacks=[check]
    )
    trainer.fit(module, datamodule=data)
    assert module.resolved_quantization == "4bit"
    assert len(check.missing) == 4
    assert all(not missing for missing in check.missing), check.missing[-1][:3]


def test_checkpoint_holds_adapter_only_and_resume_continues(make_resumable_run, tmp_path):
    ckpt_dir = tmp_path / "ckpt"
    module, data, trainer = make_resumable_run(
        max_steps=3, enable_checkpointing=True, callbacks=[ModelCheckpoint(dirpath=ckpt_dir, save_last=True)]
    )
    trainer.fit(module, datamodule=data)
    last = ckpt_dir / "last.ckpt"
    checkpoint = torch.load(last, weights_only=True)  # no pickled objects in our checkpoints
    assert checkpoint["global_step"] == 3
    assert checkpoint["state_dict"] and all("lora_" in k for k in checkpoint["state_dict"])
    assert set(checkpoint["state_dict"]) == module.trainable_state_keys()
    assert checkpoint["optimizer_states"][0]["state"], "optimizer state must be saved"
    rng = checkpoint["callbacks"]["TrainingRNGState"]
    assert rng["world_size"] == 1 and set(rng["per_rank"][0]) == {"torch", "numpy", "python"}
    trained = _snapshot(module, True)

    resumed, data2, trainer2 = make_resumable_run(max_steps=5)
    seen: dict = {}

    class _Peek(Callback):
        def on_train_start(self, trainer, pl_module):
            seen["step"] = trainer.global_step
            seen["adapter"] = _snapshot(pl_module, True)
            seen["exp_avg"] = next(iter(trainer.optimizers[0].state.values()))["exp_avg"].clone()

    trainer2.callbacks.append(_Peek())
    trainer2.fit(resumed, datamodule=data2, ckpt_path=str(last))
    assert seen["step"] == 3
    assert all(torch.equal(seen["adapter"][n], trained[n]) for n in trained)
    assert torch.count_nonzero(seen["exp_avg"]) > 0
    assert trainer2.global_step == 5

    straight, data3, trainer3 = make_resumable_run(max_steps=5)
    trainer3.fit(straight, datamodule=data3)
    _assert_same_adapters(_snapshot(resumed, True), _snapshot(straight, True))


@pytest.mark.parametrize(
    ("first", "total", "accumulate"),
    [(5, 7, 1), (3, 6, 2)],
    ids=["stopped-at-the-epoch-end", "stopped-mid-epoch-accumulating"],
)
def test_a_finished_run_continued_to_more_steps_equals_a_straight_run(
    make_resumable_run, tmp_path, first, total, accumulate
):
    """``max_steps`` reached at an epoch's end (the next run starts the next epoch) and in the
    middle of one, with gradient accumulation (the next run goes on in that epoch)."""
    ckpt_dir = tmp_path / "ckpt"
    module, data, trainer = make_resumable_run(
        max_steps=first,
        accumulate_grad_batches=accumulate,
        enable_checkpointing=True,
        callbacks=[ModelCheckpoint(dirpath=ckpt_dir, save_last=True)],
    )
    trainer.fit(module, datamodule=data)
    resumed, data, trainer = make_resumable_run(max_steps=total, accumulate_grad_batches=accumulate)
    trainer.fit(resumed, datamodule=data, ckpt_path=str(ckpt_dir / "last.ckpt"))
    straight, data, trainer = make_resumable_run(max_steps=total, accumulate_grad_batches=accumulate)
    trainer.fit(straight, datamodule=data)
    _assert_same_adapters(_snapshot(resumed, True), _snapshot(straight, True))


def test_peft_export_reloads_with_identical_logits(make_run, tiny_model, tmp_path):
    module, data, trainer = make_run(max_steps=3)
    trainer.fit(module, datamodule=data)
    out = module.export_adapter(tmp_path / "adapter")
    assert (out / "adapter_model.safetensors").exists() and (out / "adapter_config.json").exists()
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), out).eval()
    module.model.eval()
    ids = torch.tensor([[1, 50, 60, 70, 80, 90]])
    with torch.no_grad():
        expected = module.model(input_ids=ids).logits
        got = reloaded(input_ids=ids).logits
    torch.testing.assert_close(got, expected)


class _BatchRecorder(Callback):
    def __init__(self):
        self.batches: dict[int, torch.Tensor] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.batches[trainer.global_step] = batch["input_ids"].clone()


class Crash(Exception):
    pass


class _CrashAt(Callback):
    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise Crash


def _fit_interrupted_then_resumed(make_resumable_run, tmp_path, max_steps, crash_at, recorder, **kwargs):
    """Fit with a checkpoint after every step, crash before step ``crash_at``, resume from
    ``last.ckpt`` to ``max_steps`` (``recorder`` sees the resumed run's batches); the resumed module."""
    ckpt_dir = tmp_path / "mid"
    every_step = ModelCheckpoint(dirpath=ckpt_dir, save_last=True, every_n_train_steps=1)
    module, data, trainer = make_resumable_run(
        max_steps=max_steps, enable_checkpointing=True, callbacks=[every_step, _CrashAt(crash_at)], **kwargs
    )
    with pytest.raises(Crash):
        trainer.fit(module, datamodule=data)
    module, data, trainer = make_resumable_run(max_steps=max_steps, callbacks=[recorder], **kwargs)
    trainer.fit(module, datamodule=data, ckpt_path=str(ckpt_dir / "last.ckpt"))
    return module


def test_resume_mid_epoch_sees_the_same_batches_as_an_uninterrupted_run(make_resumable_run, tmp_path):
    """20 training examples in batches of 4: an epoch of 5 batches, interrupted after 2. With the
    default LoRA dropout the resumed run ends with exactly the uninterrupted run's adapter."""
    straight = _BatchRecorder()
    module, data, trainer = make_resumable_run(max_steps=5, callbacks=[straight])
    trainer.fit(module, datamodule=data)

    resumed = _BatchRecorder()
    resumed_module = _fit_interrupted_then_resumed(make_resumable_run, tmp_path, 5, 2, resumed)
    assert sorted(resumed.batches) == [2, 3, 4]
    for step in (2, 3, 4):
        assert torch.equal(resumed.batches[step], straight.batches[step]), step
    _assert_same_adapters(_snapshot(resumed_module, True), _snapshot(module, True))


def test_resume_equals_uninterrupted_run_despite_validation_and_sanity_check(make_resumable_run, tmp_path):
    """Validation right after the last checkpoint (in the uninterrupted run only), a sanity check
    (again in the resumed run) and a fresh DataLoader iterator mid-epoch all draw random numbers;
    none may shift training's. Interrupted in the second epoch: the sampler resumes there too."""
    settings = dict(val_check_interval=2, num_sanity_val_steps=1)
    straight = _BatchRecorder()
    module, data, trainer = make_resumable_run(max_steps=8, callbacks=[straight], **settings)
    trainer.fit(module, datamodule=data)

    resumed = _BatchRecorder()
    resumed_module = _fit_interrupted_then_resumed(make_resumable_run, tmp_path, 8, 7, resumed, **settings)
    assert sorted(resumed.batches) == [7]
    assert torch.equal(resumed.batches[7], straight.batches[7])
    _assert_same_adapters(_snapshot(resumed_module, True), _snapshot(module, True))


def test_auto_quantization_is_full_precision_on_cpu_and_the_4bit_probe_passes(make_run):
    from selftt.modules.loading import probe_4bit, resolve_quantization

    assert probe_4bit(torch.device("cpu"))
    assert resolve_quantization("auto", torch.device("cpu")) == "none"
    module, _, _ = make_run(quantization="auto")
    module.configure_model()
    assert module.resolved_quantization == "none"


def test_gradient_checkpointing_trains_with_gradients_everywhere(make_run):
    check = _GradCheck()
    module, data, trainer = make_run(max_steps=2, callbacks=[check])
    module.gradient_checkpointing = True
    trainer.fit(module, datamodule=data)
    base = module.model.base_model.model
    # transformers >= 5.2x calls it activation checkpointing; 5.17 (the GPU image's) gradient
    assert getattr(base, "is_activation_checkpointing", None) or base.is_gradient_checkpointing
    assert len(check.missing) == 2 and not any(check.missing)


def test_injected_scheduler_steps_every_optimizer_step(make_run):
    from functools import partial

    module, data, trainer = make_run(max_steps=3)
    module.scheduler_factory = partial(torch.optim.lr_scheduler.LinearLR, start_factor=0.5, total_iters=2)
    trainer.fit(module, datamodule=data)
    scheduler = trainer.lr_scheduler_configs[0].scheduler
    assert scheduler.last_epoch == 3
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(1e-2)


@pytest.mark.parametrize("boolean_mask", [True, False], ids=["mask-logits_to_keep", "index-logits_to_keep"])
def test_answer_loss_equals_hugging_face_loss_and_gradients(tiny_model, boolean_mask, monkeypatch):
    """Logits only at answer positions: the same loss and LoRA gradients as the full-logits loss,
    with a boolean logits_to_keep mask (transformers >= 5.2x) and with the 1-D index form older
    versions (5.17, the GPU image's) take."""
    from selftt.modules import LoraSettings, SelfTTModule, causal_lm
    from selftt.modules.causal_lm import answer_loss

    if boolean_mask and not causal_lm.MASK_LOGITS_TO_KEEP:
        pytest.skip("this transformers takes no boolean logits_to_keep mask")
    monkeypatch.setattr(causal_lm, "MASK_LOGITS_TO_KEEP", boolean_mask)

    torch.manual_seed(0)
    module = SelfTTModule(tiny_model, quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
    module.configure_model()
    ids = torch.randint(3, 100, (3, 12))
    mask = torch.ones_like(ids)
    mask[2, 9:] = 0  # right padding
    labels = torch.full_like(ids, -100)
    labels[0, 6:10], labels[1, 3:12], labels[2, 5:9] = ids[0, 6:10], ids[1, 3:12], ids[2, 5:9]

    def loss_and_grads(fn):
        module.model.zero_grad()
        loss = fn()
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in module.model.named_parameters() if p.requires_grad}

    ref_loss, ref_grads = loss_and_grads(lambda: module.model(input_ids=ids, attention_mask=mask, labels=labels).loss)
    loss, grads = loss_and_grads(lambda: answer_loss(module.model, ids, mask, labels))
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
    assert grads.keys() == ref_grads.keys() and any(g.abs().sum() > 0 for g in grads.values())
    for name, grad in grads.items():
        torch.testing.assert_close(grad, ref_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_the_data_module_shares_the_model_tokenizer_object(make_run):
    """One tokenizer per process: setup takes the module's object instead of loading its own."""
    module, data, trainer = make_run(max_steps=1)
    trainer.fit(module, datamodule=data)
    assert data.tokenizer is module.tokenizer
    assert data.formatter.tokenizer is module.tokenizer
    assert isinstance(data.hparams["tokenizer"], str)


def test_a_data_tokenizer_of_another_model_is_refused(make_run, tmp_path):
    from selftt.errors import ConfigError

    module, data, trainer = make_run(max_steps=1)
    data.tokenizer_name = str(tmp_path / "another-model")
    with pytest.raises(ConfigError, match="data.tokenizer"):
        trainer.fit(module, datamodule=data)
