"""``results.json``: what a finished evaluation writes beside its run, for the report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer

from selftt.evaluation.metrics import PRIMARY_METRIC

RESULTS_FILE = "results.json"
RESULTS_FORMAT = 1

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
    trained = trainer.state.fn == "fit" or getattr(module, "adapter_path", None) is not None
    if not trained:
        return (
            "fewshot"
            if any(
                s.fewshot for s in getattr(datamodule, "val_sets", []) + getattr(datamodule, "test_sets", [])
            )
            else "base"
        )
    names = frozenset(c.name for c in getattr(datamodule, "components", []))
    label = METHOD_BY_COMPONENTS.get(names, "+".join(sorted(names)))
    translator = next((c for c in trainer.callbacks if hasattr(c, "translator_model")), None)
    if translator is not None and translator.translator_model and "tgt" in names:
        label = label.replace("stt", "translate-train")
    return label


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
) -> dict[str, Any]:
    """The record ``python -m selftt report`` reads (schema: format 1). Rank 0 only: it must
    not touch ``trainer.log_dir``, which is a collective under DDP."""
    datamodule = trainer.datamodule
    task = datamodule.task
    translation = next((c for c in trainer.callbacks if hasattr(c, "scores")), None)
    seed = os.environ.get("PL_GLOBAL_SEED")
    return {
        "format": RESULTS_FORMAT,
        "run_dir": str(run_dir),
        "stage": stage,
        "method": method,
        "task": task.name,
        "model": module.model_name_or_path,
        "adapter": getattr(module, "adapter_path", None),
        "seed": int(seed) if seed is not None else None,
        "step": trainer.global_step,
        "metrics": metrics,
        "primary_metric": PRIMARY_METRIC[task.name],
        "translation_quality": dict(translation.scores) if translation is not None else {},
        "component_sizes": dict(getattr(datamodule, "component_sizes", {})),
        "settings": {
            "eval_sets": [f"{name}:{m['n']}" for name, m in metrics.items()],
            "max_examples": max_examples,
            "generation": module.generation.decoding(),
            "prompt_style": datamodule.formatter.style if datamodule.formatter else None,
            "quantization": getattr(module, "resolved_quantization", None),
            "dtype": model_dtype(module),
        },
    }
