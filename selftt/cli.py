"""``python -m selftt fit|validate|test|predict --config configs/X.yaml``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from lightning.fabric.utilities.seed import seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from selftt.config_checks import (
    REQUIRED_HINT,
    DuplicateKeyError,
    check_config,
    check_report_out,
    yaml_loader,
)
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.errors import ConfigError, DataError, SelfTTError
from selftt.evaluation.callback import GenerationEvaluation
from selftt.modules import SelfTTModule
from selftt.training.adapter_export import AdapterExport
from selftt.training.adapter_sync import AdapterSyncCheck
from selftt.training.hparams import SaveConfigAndHParams
from selftt.training.interrupt_note import InterruptNote
from selftt.training.lr_monitor import LearningRateLog
from selftt.training.nonfinite_loss import StopOnNonFiniteLoss
from selftt.training.prediction_writer import PredictionWriter
from selftt.training.rank_watchdog import RankWatchdog
from selftt.training.rng_state import TrainingRNGState
from selftt.training.throughput import TrainingThroughput
from selftt.training.trainer import SelfTTTrainer, check_checkpoint, is_checkpoint_file_path
from selftt.translation.callback import SelfTranslateCallback
from selftt.unknown_key import explain_unknown_key

TRAINER_DEFAULTS = {
    "logger": {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": "logs", "name": "selftt", "default_hp_metric": False},
    },
}


class SelfTTArgumentParser(LightningArgumentParser):
    """Refuses abbreviated options (``--data.batch`` for ``--data.batch_size``), reports a bad
    command line or config as one line naming the key (not the whole usage), and
    refuses a value for a key that a link sets (``data.tokenizer`` from ``model.model_name_or_path``)
    wherever it is given: jsonargparse would drop it from a config file without a word."""

    def __init__(self, *args, **kwargs) -> None:
        # "--data.batch 6" must not silently set data.batch_size (argparse's prefix matching)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def link_arguments(self, source, target, compute_fn=None, apply_on: str = "parse") -> None:
        """jsonargparse's ``link_arguments``; a link applied on parse is remembered, to refuse its target."""
        super().link_arguments(source, target, compute_fn, apply_on)
        if apply_on == "parse":
            sources = (source,) if isinstance(source, str) else tuple(source)
            self.__dict__.setdefault("_selftt_links", {})[target] = sources

    def check_not_linked(self, key: str) -> None:
        """Raise a ``ConfigError`` if ``key`` (maybe under a subcommand: ``fit.data.tokenizer``) is
        set by a link."""
        sources = self.__dict__.get("_selftt_links", {}).get(key)
        if sources is not None:
            what = " and ".join(sources)
            raise ConfigError(
                key, f"is tied to {what}, which sets it; remove '{key}' and set {what} instead"
            )
        subcommands = self._subcommands_action
        subcommand, _, rest = key.partition(".")
        if subcommands is not None and rest and subcommand in subcommands.choices:
            subparser = subcommands.choices[subcommand]
            if isinstance(subparser, SelfTTArgumentParser):
                subparser.check_not_linked(rest)

    def parse_args(self, args=None, *more, **kwargs):
        """jsonargparse's ``parse_args``, refusing ``--<linked key>`` on the command line."""
        self.__dict__["_selftt_argv"] = list(sys.argv[1:] if args is None else args)
        for arg in self._selftt_argv:
            if isinstance(arg, str) and arg.startswith("--"):
                self.check_not_linked(arg[2:].partition("=")[0])
        return super().parse_args(args, *more, **kwargs)

    def _apply_actions(self, cfg, parent_key: str = "", prev_cfg=None, skip_fn=None):
        # Values as a user wrote them (a config file, ``--data '{...}'``, ``--data file.yaml``)
        # arrive here as a dict or under a parent key; the parser's own namespaces (defaults,
        # links applied) arrive as a Namespace with no parent key.
        if isinstance(cfg, dict) or parent_key:
            for key in _given_keys(cfg, parent_key):
                self.check_not_linked(key)
        return super()._apply_actions(cfg, parent_key, prev_cfg, skip_fn)

    def error(self, message: str, ex: Exception | None = None):
        if not self.exit_on_error:  # jsonargparse probing alternatives: keep its behaviour
            return super().error(message, ex)
        argv = [a for a in self.__dict__.get("_selftt_argv", sys.argv[1:]) if isinstance(a, str)]
        subcommands = self._subcommands_action
        if subcommands is not None:  # the main parser: argv starts with the subcommand
            name = argv[0] if argv else ""
            subparser = subcommands.choices.get(name, self)
        else:  # a subcommand's parser, given the arguments after the subcommand
            name, subparser = self.prog.split()[-1], self
        unknown = explain_unknown_key(message, subparser, _config_file_args(argv), name)
        sys.stderr.write(f"selftt: error: {unknown or one_line_parser_error(message)}\n")
        self.exit(2)


def _given_keys(value, prefix: str = "") -> list[str]:
    """Every dotted key of a nested mapping (dict or jsonargparse Namespace), branches included."""
    if hasattr(value, "as_dict") and not isinstance(value, dict):
        value = value.as_dict()
    if not isinstance(value, dict):
        return []
    keys = []
    for name, item in value.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        keys += [key, *_given_keys(item, key)]
    return keys


def one_line_parser_error(message: str, limit: int = 400) -> str:
    """jsonargparse's (often multi-line) message as one line: ``config key 'a.b': ...``."""
    text = " ".join(message.split())
    text = re.sub(r'^Parser key "([^"]+)":', r"config key '\1':", text)
    text = text.replace("Expected a <class '", "expected a '").replace("'>", "'")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} (see 'python -m selftt <subcommand> --help')"


def _default_callbacks() -> list:
    """Always added by LightningCLI, besides those a config lists (fresh instances per run)."""
    return [LearningRateLog(), AdapterSyncCheck(), StopOnNonFiniteLoss(), TrainingRNGState(), InterruptNote()]


class SelfTTCLI(LightningCLI):
    """LightningCLI with selftt's model and data, self-translation, adapter-only checkpoints
    and PEFT export, and the extra subcommands ``translate`` and ``export``."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {
            **LightningCLI.subcommands(),
            "translate": {"model", "datamodule"},
            "export": {"model", "datamodule"},
        }

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("model.model_name_or_path", "data.tokenizer")
        parser.link_arguments("model.trust_remote_code", "data.trust_remote_code")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "{step}"})
        parser.add_lightning_class_args(SelfTranslateCallback, "translation")
        parser.add_lightning_class_args(GenerationEvaluation, "evaluation")
        parser.add_lightning_class_args(AdapterExport, "adapter_export")
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")
        parser.add_lightning_class_args(RankWatchdog, "watchdog")
        parser.add_lightning_class_args(TrainingThroughput, "throughput")

    def _set_seed(self) -> None:
        """LightningCLI's seeding without its "Seed set to N" line, which stood before the one
        ``selftt: error`` line of a setting refused when the callbacks are built; the seed used
        is in the run's config.yaml."""
        seed = self._get(self.config, "seed_everything")
        if seed is False:
            return
        seed = seed_everything(None if seed is True else seed, workers=True, verbose=False)
        (self.config[self.subcommand] if self.subcommand else self.config)["seed_everything"] = seed

    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        """LightningCLI's parsing, then selftt's checks of the parsed values before anything is
        built or written (``selftt.config_checks``: finite numbers in range, output folders that
        can be made, ``--ckpt_path`` not a folder)."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        check_config(self.config[subcommand] if subcommand else self.config)

    def _parse_ckpt_path(self) -> None:
        """Check ``--ckpt_path`` (exists, weights-only, a selftt checkpoint, the config's LoRA
        settings and base model) before Lightning reads the hyperparameters stored in it (which
        would otherwise silently replace the config's)."""
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if is_checkpoint_file_path(ckpt_path):
            model = self.config[subcommand].get("model")
            lora = model.get("lora") if model is not None else None
            check_checkpoint(
                ckpt_path,
                lora=lora.as_dict() if hasattr(lora, "as_dict") else None,
                base_model=model.get("model_name_or_path") if model is not None else None,
            )
        super()._parse_ckpt_path()

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


def _config_file_args(argv: list[str]) -> list[tuple[Path, str]]:
    """The values of ``--config`` / ``-c`` and of whole-section arguments (``--data file.yaml``,
    ``--model=file.yaml``: a top-level key without a dot, given a .yaml/.yml/.json name), which
    jsonargparse reads as config files, each with its argument's name."""
    paths = []
    for i, arg in enumerate(argv):
        name, eq, inline = arg.partition("=")
        value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if not value or not name.startswith("-") or "." in name or name in ("--help", "-h"):
            continue
        if name in ("-c", "--config") or (
            name.startswith("--") and Path(value).suffix.lower() in (".yaml", ".yml", ".json")
        ):
            paths.append((Path(value).expanduser(), name))
    return paths


_FLAGS = {"export": ("--merge",)}
"""Per subcommand, the bool options that may be given bare (``--merge`` for ``--merge true``)."""


def _bare_flags(argv: list[str]) -> list[str]:
    """``argv`` with each bare flag of its subcommand (``_FLAGS``; followed by nothing or by
    another option) written as ``--flag=true``, which jsonargparse's bool options require."""
    flags = _FLAGS.get(argv[0], ()) if argv else ()
    return [
        f"{arg}=true" if arg in flags and (i + 1 == len(argv) or argv[i + 1].startswith("-")) else arg
        for i, arg in enumerate(argv)
    ]


def _check_config_files(argv: list[str]) -> None:
    """Part of ``cli_main``: each ``--config`` file must be readable YAML holding a mapping, with
    no key written twice (YAML would keep the last silently), and not be empty.

    jsonargparse's own message names neither the file nor its line; this one does.
    """
    import yaml

    for path, name in _config_file_args(argv):
        if not path.is_file():
            if path.suffix.lower() in (".yaml", ".yml", ".json"):
                raise DataError(path, "config file not found")
            continue  # not a path: jsonargparse reads it as inline YAML
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml_loader())  # noqa: S506 (a SafeLoader)
        except DuplicateKeyError as err:
            raise DataError(path, str(err), err.line) from None
        except UnicodeDecodeError as err:
            raise DataError(path, f"not valid UTF-8 text ({err.reason}); save the config as UTF-8") from None
        except OSError as err:
            raise DataError(path, f"cannot read the config file ({err.strerror})") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            parts = (getattr(err, "context", None), getattr(err, "problem", None))
            what = ": ".join(str(part) for part in parts if part)
            column = f" (column {mark.column + 1})" if mark is not None else ""
            raise DataError(
                path, f"not valid YAML: {what or err}{column}", mark.line + 1 if mark is not None else None
            ) from None
        if data is None or data == {}:
            if name not in ("-c", "--config"):
                raise DataError(path, f"the file given to {name} is empty; it must hold that section's keys")
            raise DataError(path, f"the config file is empty; it must set at least {REQUIRED_HINT}")
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise DataError(path, f"expected a mapping of config keys ('key: value'), got a YAML {kind}")


_OPTIMIZER_ARGS = {  # torch.optim's "Invalid <what>: <value>" -> (init_args key, what is expected)
    "learning rate": ("lr", "must be >= 0"),
    "epsilon value": ("eps", "must be >= 0"),
    "weight_decay value": ("weight_decay", "must be >= 0"),
    "momentum value": ("momentum", "must be >= 0"),
    "beta parameter at index 0": ("betas", "must be in [0, 1)"),
    "beta parameter at index 1": ("betas", "must be in [0, 1)"),
}


def _torch_optim_error(err: ValueError) -> SelfTTError | None:
    """Part of ``cli_main``: a ValueError that torch.optim raised for a bad optimizer or scheduler
    argument, as a ConfigError naming the config key; None for any other ValueError."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    source = Path(tb.tb_frame.f_code.co_filename) if tb is not None else Path()
    in_torch_optim = (source.parent.parent.name, source.parent.name) == ("torch", "optim")
    if not in_torch_optim or tb.tb_frame.f_code.co_name != "__init__":
        return None  # not a constructor refusing its arguments (e.g. a state dict that does not fit)
    owner = tb.tb_frame.f_locals.get("self")
    name = type(owner).__name__ if owner is not None else source.stem
    text = " ".join(str(err).split())
    section = "model.scheduler" if source.stem == "lr_scheduler" else "model.optimizer"
    what, _, value = text.removeprefix("Invalid ").partition(": ")
    if section == "model.optimizer" and what in _OPTIMIZER_ARGS:
        arg, expected = _OPTIMIZER_ARGS[what]
        return ConfigError(f"{section}.init_args.{arg}", f"{expected}, got {value} ({name}: {text})")
    return ConfigError(section, f"{name} refused its arguments: {text}")


def cli_main(args: list[str] | None = None, run: bool = True) -> SelfTTCLI | None:
    """Run the CLI; a ``SelfTTError`` (or torch.optim's ValueError for a bad optimizer
    argument) ends it with one readable line and exit status 2; any other exception with one line
    ``<ExceptionType>: <message>`` and exit status 1 (``SELFTT_DEBUG=1``: the traceback instead).
    KeyboardInterrupt and SystemExit pass through as they are.

    ``run=False`` only parses the config and builds the objects (no subcommand), as tests do.
    ``report`` is not a Trainer subcommand: it reads finished runs (``python -m selftt report --help``).
    """
    argv = sys.argv[1:] if args is None else list(args)
    if argv[:1] == ["report"]:
        from selftt.report.main import report_main

        try:
            check_report_out(argv[1:])
            status = report_main(argv[1:])
        except Exception as err:  # noqa: BLE001 (the last resort, as below)
            _exit_with_one_line(err)
        sys.exit(status)
    flagged = _bare_flags(argv)
    if flagged != argv:
        if args is None:  # LightningCLI warns when given args beside sys.argv's: rewrite sys.argv
            sys.argv[1:] = flagged
        else:
            args = flagged
        argv = flagged
    try:
        _check_config_files(argv)
        return SelfTTCLI(
            SelfTTModule,
            SelfTTDataModule,
            trainer_class=SelfTTTrainer,
            parser_class=SelfTTArgumentParser,
            trainer_defaults={**TRAINER_DEFAULTS, "callbacks": _default_callbacks()},
            save_config_callback=SaveConfigAndHParams,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            args=args,
            run=run,
            parser_kwargs={
                "description": "Self-Translate-Train with Lightning. Besides the subcommands below: "
                "'python -m selftt report --help' (tables and plots from finished runs)."
            },
        )
    except Exception as err:  # noqa: BLE001 (the last resort: one line, or the traceback on request)
        _exit_with_one_line(err)


def _exit_with_one_line(err: Exception) -> NoReturn:
    """End the process with one line on stderr: a ``SelfTTError`` (or torch.optim's ValueError for
    a bad optimizer argument) with status 2, any other exception as ``<Type>: <message>`` with
    status 1; under ``SELFTT_DEBUG=1`` an unexpected exception is raised again (the traceback)."""
    known = err if isinstance(err, SelfTTError) else None
    if known is None and isinstance(err, ValueError):
        known = _torch_optim_error(err)
    rank = os.environ.get("RANK") or os.environ.get("LOCAL_RANK") or "0"
    where = f" (rank {rank})" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else ""
    if known is not None:
        print(f"selftt: error{where}: {known}", file=sys.stderr)
        sys.exit(2)
    if os.environ.get("SELFTT_DEBUG", "") not in ("", "0"):
        raise err  # SELFTT_DEBUG=1: the full traceback
    text = " ".join(str(err).split())
    if len(text) > 400:
        text = text[:397] + "..."
    print(
        f"selftt: error{where}: {type(err).__name__}: {text} (rerun with SELFTT_DEBUG=1 for the traceback)",
        file=sys.stderr,
    )
    sys.exit(1)


__all__ = ["SelfTTCLI", "cli_main"]
