"""``results.json``: what a finished evaluation writes beside its run, for the report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer

from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.evaluation.results_schema import RESULTS_FILE, RESULTS_FORMAT, Results
from selftt.modules import SelfTTModule
from selftt.translation.callback import SelfTranslateCallback

__all__ = ["RESULTS_FILE", "RESULTS_FORMAT", "Results", "build_results", "method_of", "model_dtype"]

METHOD_BY_COMPONENTS = {
    frozenset({"src"}): "zero-shot",
    frozenset({"src", "tgt"}): "stt",
    frozenset({"src", "tgt", "cs"}): "stt+cs",
    frozenset({"src", "cs"}): "src+cs",
}


def method_of(trainer: Trainer) -> str:
    """The paper's method a run stands for, from what it trained on.

    An untrained model evaluated with in-context examples is 'fewshot'; fine-tuning on 'src'
    alone is 'zero-shot' (transfer); 'src'+'tgt' is 'stt' (Self-Translate-Train); with 'cs'
    it is 'stt+cs'. A translation by another model (``translation.model``) makes it
    'translate-train'. Evaluating a trained adapter (``model.adapter_path``) keeps the label
    of the components in the config.
    """
    datamodule = trainer.datamodule
    module = trainer.lightning_module
    datamodule = datamodule if isinstance(datamodule, SelfTTDataModule) else None
    trained = trainer.state.fn == "fit" or (
        isinstance(module, SelfTTModule) and (module.adapter_path is not None or module.checkpoint_step is not None)
    )
    if not trained:
        return (
            "fewshot"
            if any(
                s.fewshot for s in (datamodule.val_sets + datamodule.test_sets if datamodule else [])
            )
            else "base"
        )
    names = frozenset(c.name for c in (datamodule.components if datamodule else []))
    label = METHOD_BY_COMPONENTS.get(names, "+".join(sorted(names)))
    translator = next((c for c in trainer.callbacks if isinstance(c, SelfTranslateCallback)), None)
    if translator is not None and translator.translator_model and "tgt" in names:
        label = label.replace("stt", "translate-train")
    return label


def evaluated_step(trainer: Trainer) -> int:
    """The training step of the weights being evaluated: the trainer's in ``fit``, else that of the
    checkpoint ``--ckpt_path`` loaded (0 for an untrained model or a bare adapter folder)."""
    module = trainer.lightning_module
    if trainer.state.fn != "fit" and isinstance(module, SelfTTModule) and module.checkpoint_step is not None:
        return module.checkpoint_step
    return trainer.global_step


def model_dtype(module: LightningModule) -> str | None:
    """The loaded model's dtype as a name (``bfloat16``), None before it is loaded."""
    dtype = getattr(getattr(module, "model", None), "dtype", None)
    return str(dtype).removeprefix("torch.") if dtype is not None else None


def build_results(
    trainer: Trainer,
    module: LightningModule,
    run_dir: Path,
    stage: str,
    method: str,
    metrics: dict[str, dict[str, Any]],
    max_examples: int | None,
) -> Results:
    """The record ``python -m selftt report`` reads (schema: ``results_schema.Results``, format
    ``RESULTS_FORMAT``). Rank 0 only: it must not touch ``trainer.log_dir``, which is a
    collective under DDP."""
    datamodule = trainer.datamodule
    task = datamodule.task
    translation = next((c for c in trainer.callbacks if isinstance(c, SelfTranslateCallback)), None)
    seed = os.environ.get("PL_GLOBAL_SEED")
    return Results(
        format=RESULTS_FORMAT,
        run_dir=str(run_dir),
        stage=stage,
        method=method,
        task=task.name,
        model=module.model_name_or_path,
        adapter=module.adapter_path if isinstance(module, SelfTTModule) else None,
        seed=int(seed) if seed is not None else None,
        step=evaluated_step(trainer),
        checkpoint=str(trainer.ckpt_path) if trainer.ckpt_path else None,
        metrics=metrics,
        primary_metric=task.primary_metric,
        translation_quality=dict(translation.scores) if translation is not None else {},
        component_sizes=dict(datamodule.component_sizes) if isinstance(datamodule, SelfTTDataModule) else {},
        self_translation=translation.data_summary() if translation is not None else {},
        source_lang=source_lang(datamodule),
        settings={
            "eval_sets": [f"{name}:{m['n']}" for name, m in metrics.items()],
            "max_examples": max_examples,
            "generation": module.generation.decoding(),
            "prompt_style": datamodule.formatter.style if datamodule.formatter else None,
            "quantization": module.resolved_quantization if isinstance(module, SelfTTModule) else None,
            "dtype": model_dtype(module),
        },
    )


def source_lang(datamodule: object) -> str:
    """The first ``src`` component's language (``en`` without one): the run's source language."""
    if isinstance(datamodule, SelfTTDataModule):
        return next((c.lang for c in datamodule.components if c.name == "src"), "en")
    return "en"
