"""The resolved config as TensorBoard hyperparameters, with the run's primary metrics, so that runs
can be compared in TensorBoard's HPARAMS tab."""

from __future__ import annotations

from typing import Any

import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger

from selftt.datamodules.eval_sets import EvaluationData
from selftt.evaluation.callback import GenerationEvaluation, _metric_prefixes

HPARAM_SECTIONS = ("seed_everything", "ckpt_path", "model", "data", "translation", "evaluation")
"""Config sections logged in full; of ``trainer`` only the plain values (not logger, callbacks...)."""


def flatten_hparams(config: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """The config sections worth comparing runs by, as ``{"model.lora.r": 8, ...}``.

    Nested mappings and lists of mappings are flattened (``data.components.0.weight``), lists of
    plain values joined (``model.lora.target_modules: "q_proj,v_proj"``), ``None`` written as
    ``"None"``: TensorBoard takes only numbers, booleans and strings.
    """
    flat: dict[str, bool | int | float | str] = {}

    def add(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                add(f"{key}.{name}", item)
        elif isinstance(value, list | tuple) and any(isinstance(item, dict | list | tuple) for item in value):
            for i, item in enumerate(value):
                add(f"{key}.{i}", item)
        elif isinstance(value, list | tuple):
            flat[key] = ",".join(str(item) for item in value)
        elif isinstance(value, bool | int | float | str):
            flat[key] = value
        else:
            flat[key] = str(value)

    for section in HPARAM_SECTIONS:
        if section in config:
            add(section, config[section])
    for name, value in (config.get("trainer") or {}).items():
        if value is None or isinstance(value, bool | int | float | str):
            add(f"trainer.{name}", value)
    return flat


def primary_metric_tags(trainer: Trainer, stage: str) -> list[str]:
    """The scalar tags a run of ``stage`` is compared by: ``train/loss`` (fit), ``<val|test>/loss``
    and the primary generation metric of every evaluation set (``val/<task>/<lang>/<metric>``,
    as ``GenerationEvaluation`` logs it)."""
    if stage == "predict":
        return []
    prefix = "test" if stage == "test" else "val"
    tags = ["train/loss"] if stage == "fit" else []
    datamodule = trainer.datamodule
    if not isinstance(datamodule, EvaluationData):
        return tags
    if datamodule.eval_set_names(prefix):
        tags.append(f"{prefix}/loss")
    evaluation = next((c for c in trainer.callbacks if isinstance(c, GenerationEvaluation)), None)
    task = datamodule.task
    if evaluation is not None and evaluation.enabled and task is not None:
        sets = datamodule.generation_eval_sets(prefix)
        metric = task.primary_metric
        tags += [f"{p}/{metric}" for p in _metric_prefixes(task.name, sets, prefix).values()]
    return tags


def log_hparams(logger: TensorBoardLogger, hparams: dict[str, Any], metric_tags: list[str]) -> None:
    """Write TensorBoard's hparams summary: ``hparams`` with ``metric_tags`` as its metrics.

    No metric value is logged here (Lightning's ``log_hyperparams`` would log placeholders at
    step 0); the HPARAMS tab reads the values from the scalars of the same run.
    """
    from torch.utils.tensorboard.summary import hparams as hparams_summary

    experiment, start, end = hparams_summary(hparams, dict.fromkeys(metric_tags, 0.0))
    writer = logger.experiment._get_file_writer()
    for summary in (experiment, start, end):
        writer.add_summary(summary)
    writer.flush()


RUN_ARGUMENTS = ("ckpt_path", "weights_only", "verbose", "return_predictions")
"""Arguments of one subcommand's call (``fit(ckpt_path=...)``), not of the run's setup."""


def without_unset_run_arguments(config: Any) -> Any:
    """``config`` (a jsonargparse Namespace) without the top-level ``RUN_ARGUMENTS`` left unset
    (None), so that the run's ``config.yaml`` is a setup every subcommand takes (``export`` has no
    ``weights_only``, ``translate`` neither that nor ``ckpt_path``). A value that was
    set (a resumed run's ``ckpt_path``) stays: it says how the run was made."""
    pruned = config.clone()
    for key in RUN_ARGUMENTS:
        if key in pruned and pruned[key] is None:
            del pruned[key]
    return pruned


class SaveConfigAndHParams(SaveConfigCallback):
    """Lightning's ``SaveConfigCallback`` (``config.yaml`` in the run folder) that also logs the
    resolved config to every TensorBoard logger as hyperparameters, with the primary metrics
    (``primary_metric_tags``) as the HPARAMS metrics, and turns off the loggers' placeholder
    ``hp_metric`` (-1, never updated).
    """

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger._default_hp_metric = False  # before Lightning logs the module's hparams
        if not self.already_saved:
            self.config = without_unset_run_arguments(self.config)
        super().setup(trainer, pl_module, stage)

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """On global rank 0 only (``SaveConfigCallback.setup`` calls it there)."""
        loggers = [logger for logger in trainer.loggers if isinstance(logger, TensorBoardLogger)]
        if not loggers:
            return
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False, skip_validation=True))
        hparams = flatten_hparams(config or {})
        tags = primary_metric_tags(trainer, stage)
        for logger in loggers:
            log_hparams(logger, hparams, tags)
