"""``python -m selftt fit|validate|test|predict --config configs/X.yaml``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from selftt.callbacks.adapter_export import AdapterExport
from selftt.callbacks.adapter_sync import AdapterSyncCheck
from selftt.callbacks.evaluation import GenerationEvaluation
from selftt.callbacks.prediction_writer import PredictionWriter
from selftt.callbacks.self_translate import SelfTranslateCallback
from selftt.datamodules import SelfTTDataModule
from selftt.errors import SelfTTError
from selftt.modules import SelfTTModule
from selftt.trainer import SelfTTTrainer

TRAINER_DEFAULTS = {
    "logger": {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": "logs", "name": "selftt"},
    },
}


def _default_callbacks() -> list:
    """Always added by LightningCLI, besides those a config lists (fresh instances per run)."""
    return [LearningRateMonitor(), AdapterSyncCheck()]


class SelfTTCLI(LightningCLI):
    """LightningCLI with selftt's model and data, self-translation, adapter-only checkpoints
    and PEFT export, and the extra subcommand ``translate``."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {**LightningCLI.subcommands(), "translate": {"model", "datamodule"}}

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("model.model_name_or_path", "data.tokenizer")
        parser.link_arguments("model.trust_remote_code", "data.trust_remote_code")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "{step}"})
        parser.add_lightning_class_args(SelfTranslateCallback, "translation")
        parser.add_lightning_class_args(GenerationEvaluation, "evaluation")
        parser.add_lightning_class_args(AdapterExport, "adapter_export")
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")


    def after_fit(self) -> None:
        """Say where the run's outputs are."""
        run_dir = Path(self.trainer.log_dir or self.trainer.default_root_dir)  # a collective: every rank
        if not self.trainer.is_global_zero:
            return
        logs_root = run_dir.parent.parent if run_dir.name.startswith("version_") else run_dir
        lines = [f"selftt: run finished: {run_dir}"]
        for label, path in (
            ("adapter (PEFT)", run_dir / "adapter"),
            ("predictions", run_dir / "predictions"),
            ("results", run_dir / "results.json"),
            ("last checkpoint", run_dir / "checkpoints" / "last.ckpt"),
        ):
            if path.exists():
                lines.append(f"  {label + ':':17} {path}")
        lines.append(f"  TensorBoard:      tensorboard --logdir {logs_root}")
        print("\n".join(lines), flush=True)


def cli_main(args: list[str] | None = None, run: bool = True) -> SelfTTCLI | None:
    """Run the CLI; a ``SelfTTError`` ends it with one readable line and exit status 2.

    ``run=False`` only parses the config and builds the objects (no subcommand), as tests do.
    ``report`` is not a Trainer subcommand: it reads finished runs (``python -m selftt report --help``).
    """
    argv = sys.argv[1:] if args is None else list(args)
    if argv[:1] == ["report"]:
        from selftt.report.main import report_main

        sys.exit(report_main(argv[1:]))
    try:
        return SelfTTCLI(
            SelfTTModule,
            SelfTTDataModule,
            trainer_class=SelfTTTrainer,
            trainer_defaults={**TRAINER_DEFAULTS, "callbacks": _default_callbacks()},
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            args=args,
            run=run,
            parser_kwargs={
                "description": "Self-Translate-Train with Lightning. Besides the subcommands below: "
                "'python -m selftt report --help' (tables and plots from finished runs)."
            },
        )
    except SelfTTError as err:
        rank = os.environ.get("RANK") or os.environ.get("LOCAL_RANK")
        where = f" (rank {rank})" if rank not in (None, "0") else ""
        print(f"selftt: error{where}: {err}", file=sys.stderr)
        sys.exit(2)


__all__ = ["SelfTTCLI", "cli_main"]
