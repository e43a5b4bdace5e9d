"""Checks of a parsed config before anything is built or written: every number is finite and in
range, every folder a run writes to can be made, ``--ckpt_path`` is a file; and config files have
no key written twice and are not empty.

Each refusal is a ``SelfTTError`` (one line naming the config key or the file).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import is_dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from selftt.errors import ConfigError, DataError, SelfTTError

MAX_RETRIES = 16
"""The most ``translation.retries``: retries are greedy, and past the shots file's rotations a
retry repeats a prompt already tried."""

# (pattern on the dotted key with list indices dropped, low, low inclusive, high, high inclusive)
_RANGES: list[tuple[str, float | None, bool, float | None, bool]] = [
    ("data.batch_size", 1, True, None, False),
    ("data.eval_batch_size", 1, True, None, False),
    ("data.max_length", 1, True, None, False),
    ("data.predict_chunk", 1, True, None, False),
    ("data.num_workers", 0, True, None, False),
    ("data.val_holdout", 0, True, None, False),
    ("data.*.limit", 1, True, None, False),
    ("data.*.weight", 0, True, None, False),
    ("data.*.fewshot", 0, True, None, False),
    ("data.*.max_new_tokens", 1, True, None, False),
    ("*.generation.max_new_tokens", 1, True, None, False),
    ("*.generation.max_batch_tokens", 1, True, None, False),
    ("*.generation.max_batch_size", 1, True, None, False),
    ("*.generation.temperature", 0, True, None, False),
    ("*.generation.top_p", 0, False, 1, True),
    ("model.lora.r", 1, True, None, False),
    ("model.lora.dropout", 0, True, 1, False),
    ("*.engine.tensor_parallel_size", 1, True, None, False),
    ("*.engine.gpu_memory_utilization", 0, False, 1, True),
    ("*.engine.kv_cache_gib", 0, False, None, False),
    ("*.engine.start_timeout_s", 0, False, None, False),
    ("trainer.accumulate_grad_batches", 1, True, None, False),
    ("trainer.num_nodes", 1, True, None, False),
    ("trainer.max_steps", -1, True, None, False),
    ("trainer.max_epochs", -1, True, None, False),
    ("trainer.min_steps", 0, True, None, False),
    ("trainer.min_epochs", 0, True, None, False),
    ("trainer.num_sanity_val_steps", -1, True, None, False),
    ("trainer.log_every_n_steps", 0, True, None, False),
    ("trainer.check_val_every_n_epoch", 1, True, None, False),
    ("trainer.val_check_interval", 0, False, None, False),
    ("trainer.limit_*_batches", 0, True, None, False),
    ("trainer.overfit_batches", 0, True, None, False),
    ("trainer.gradient_clip_val", 0, True, None, False),
    ("trainer.reload_dataloaders_every_n_epochs", 0, True, None, False),
    ("checkpoint.every_n_train_steps", 0, True, None, False),
    ("checkpoint.every_n_epochs", 0, True, None, False),
    ("checkpoint.save_top_k", -1, True, None, False),
    ("translation.chunk_size", 1, True, None, False),
    ("translation.prompt.n_shots", 0, True, None, False),
    ("translation.max_new_tokens_ratio", 0, False, None, False),
    ("translation.max_new_tokens_extra", 0, True, None, False),
    ("translation.filters.max_repeated_ngram_fraction", 0, False, 1, True),  # off: repetition false
    ("translation.filters.min_script_fraction", 0, False, 1, True),  # off: script false
    ("translation.filters.min_language_confidence", 0, True, 1, True),
    ("translation.filters.round_trip_min_chrf", 0, True, 100, True),
    ("translation.filters.answer_min_score", 1, True, 100, True),  # a 0-100 score: 0.8 is a slip for 80
    ("translation.retries", 0, True, MAX_RETRIES, True),
    ("translation.drop_failed_pieces", 0, True, 1, False),
    ("translation.quality.limit", 1, True, None, False),
    ("translation.log_samples", 0, True, None, False),
    ("evaluation.max_examples", 1, True, None, False),
    ("evaluation.log_samples", 0, True, None, False),
    ("watchdog.timeout", 0, False, None, False),
    ("watchdog.interval", 0, False, None, False),
    ("throughput.warmup_steps", 0, True, None, False),
    ("throughput.peak_tflops", 0, False, None, False),
]


def _as_plain(value: Any) -> Any:
    if hasattr(value, "as_dict") and not isinstance(value, dict):
        return value.as_dict()
    return value


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf."""
    value = _as_plain(value)
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{key}[{i}]")
    else:
        yield key, value


def _range_text(low, low_in, high, high_in) -> str:
    if high is None:
        return f"must be {'>=' if low_in else '>'} {low:g}"
    return f"must be in {'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"


def check_range(key: str, value: Any, lookup: str | None = None) -> None:
    """Refuse a NaN or infinite float, and a number outside the range ``_RANGES`` gives ``key``.

    The one table of ranges, used at parse time (``check_numbers``) and by the constructors
    (a callback or data module built in Python), so both refuse the same values with the same
    words. Non-numbers, booleans and keys without a range pass.

    Args:
        key: The dotted config key as shown to the user (``data.val_sets[0].fewshot``); list
            indices and ``.init_args.`` are dropped to look it up.
        value: The value given.
        lookup: The key to look the range up by, where ``key`` carries a prefix of the caller's
            (``FilterSettings.validate("cfg.f")``); default ``key``.

    Raises:
        ConfigError: naming ``key``, with the range expected and the value got.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, got {value}")
    pattern_key = re.sub(r"\[\d+\]", "", lookup or key).replace(".init_args.", ".")
    for pattern, low, low_in, high, high_in in _RANGES:
        if not fnmatchcase(pattern_key, pattern):
            continue
        too_low = low is not None and (value < low if low_in else value <= low)
        too_high = high is not None and (value > high if high_in else value >= high)
        if too_low or too_high:
            raise ConfigError(key, f"{_range_text(low, low_in, high, high_in)}, got {value}")
        return


def check_numbers(config: Any) -> None:
    """``check_range`` of every leaf of ``config``: refuse a NaN or infinite float anywhere, and a
    number outside its range for keys selftt knows."""
    for key, value in _leaves(config):
        check_range(key, value)


def check_output_folder(key: str, folder: Any) -> None:
    """``folder`` is a folder or can be made: not a file, nor under a file, nor under a folder
    this process cannot write to."""
    if folder is None or "://" in str(folder):
        return
    path = Path(str(folder)).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(key, f"'{folder}' is a file, not a folder")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(key, f"folder '{folder}' cannot be created: '{parent}' is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(key, f"folder '{folder}' cannot be created: no permission to write in '{parent}'")


def _loggers(logger: Any) -> list[tuple[str, Any]]:
    logger = _as_plain(logger)
    items = list(enumerate(logger)) if isinstance(logger, list) else [(None, logger)]
    found = []
    for i, item in items:
        item = _as_plain(item)
        if isinstance(item, dict):
            key = "trainer.logger" if i is None else f"trainer.logger[{i}]"
            found.append((key, item.get("init_args") or {}))
    return found


def check_folders(config: Any) -> None:
    """Every folder the config names for output is (or can be made as) a folder."""
    get = _as_plain(config)
    trainer = get.get("trainer") or {}
    check_output_folder("trainer.default_root_dir", trainer.get("default_root_dir"))
    for key, init_args in _loggers(trainer.get("logger")):
        for name in ("save_dir", "root_dir"):
            check_output_folder(f"{key}.init_args.{name}", init_args.get(name))
    check_output_folder("checkpoint.dirpath", (get.get("checkpoint") or {}).get("dirpath"))
    check_output_folder("translation.cache_dir", (get.get("translation") or {}).get("cache_dir"))


def check_ckpt_path(ckpt_path: Any) -> None:
    """``--ckpt_path`` given a folder: say so, listing the checkpoints inside."""
    if not isinstance(ckpt_path, str | Path) or "://" in str(ckpt_path) or not Path(ckpt_path).is_dir():
        return
    found = sorted(Path(ckpt_path).rglob("*.ckpt"))
    if not found:
        raise DataError(ckpt_path, "--ckpt_path is a directory with no checkpoint (*.ckpt) in it")
    names = ", ".join(str(p) for p in found[:8]) + (f" (and {len(found) - 8} more)" if len(found) > 8 else "")
    raise DataError(ckpt_path, f"--ckpt_path is a directory, not a checkpoint file; give one of: {names}")


SETTING_GROUPS = (
    "translation.prompt",
    "translation.generation",
    "translation.filters",
    "translation.engine",
    "model.lora",
    "model.generation",
    "model.engine",
)
"""Keys whose value is a group of settings (a dataclass): null or a list there is refused."""


def check_setting_groups(config: Any) -> None:
    """Each of :data:`SETTING_GROUPS` that the config gives is a mapping of settings."""
    plain = _as_plain(config)
    for key in SETTING_GROUPS:
        section, _, name = key.partition(".")
        group = _as_plain(plain.get(section)) if isinstance(plain, dict) else None
        if not isinstance(group, dict) or name not in group:
            continue
        value = _as_plain(group[name])
        if not isinstance(value, dict) and not is_dataclass(value):
            shown = "null" if value is None else f"a {type(value).__name__} ({value!r:.60})"
            raise ConfigError(key, f"must be a mapping of its settings (key: value), got {shown}")


def check_config(config: Any) -> None:
    """All checks of a parsed config (one subcommand's section)."""
    check_setting_groups(config)
    check_numbers(config)
    check_folders(config)
    check_ckpt_path(_as_plain(config).get("ckpt_path"))


def check_report_out(argv: list[str]) -> None:
    """``report --out``: a folder, or one that can be made."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--out" and i + 1 < len(argv) else None
        value = arg.partition("=")[2] if arg.startswith("--out=") else value
        if value:
            try:
                check_output_folder("out", value)
            except ConfigError as err:
                raise SelfTTError(f"--out: {str(err).partition(': ')[2]}") from None


def yaml_loader():
    """A ``yaml.SafeLoader`` that refuses a mapping key written twice (YAML keeps the last)."""
    import yaml

    class NoDuplicatesLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: dict = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue
                if first is not None:
                    raise DuplicateKeyError(key, key_node.start_mark.line + 1, first)
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return NoDuplicatesLoader


class DuplicateKeyError(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        self.key, self.line, self.first = key, line, first
        super().__init__(
            f"key '{key}' is written twice (first at line {first}; YAML would keep only the last)"
        )


REQUIRED_HINT = "model.model_name_or_path and data.components"
"""What a run's config must set at least (said when a config file is empty)."""
