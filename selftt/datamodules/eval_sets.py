"""Loading evaluation sets: names, languages, and in-context examples held out of scoring."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from selftt.config_checks import check_range
from selftt.datamodules.components import EvalSet, check_limit
from selftt.errors import ConfigError
from selftt.tasks import Example, Task
from selftt.tasks.readers import HUB_PREFIX


@dataclass
class LoadedEvalSet:
    """An evaluation set ready to use: the examples to score and the in-context examples."""

    name: str
    lang: str
    examples: list[Example]
    shots: list[Example] = field(default_factory=list)
    max_new_tokens: int | None = None
    key: str = ""


@runtime_checkable
class EvaluationData(Protocol):
    """What the data module hands the model and the evaluation for 'val' and 'test' (``SelfTTDataModule``)."""

    task: Task

    def eval_set_names(self, stage: str) -> list[str]:
        """Names of the loss-evaluated sets of ``stage`` ('val' or 'test'), in dataloader order."""
        ...

    def generation_eval_sets(self, stage: str) -> list[LoadedEvalSet]:
        """The sets to evaluate by generation in ``stage`` ('val' or 'test')."""
        ...


def default_name(eval_set: EvalSet) -> str:
    """'<file stem>_<lang>', without repeating a language the stem already ends in (mgsm_de.tsv)."""
    if eval_set.path.startswith("hf://"):
        stem = eval_set.path.split(":")[-1].rsplit("/", 1)[-1]
    else:
        stem = Path(eval_set.path).stem
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", stem)
    return stem if stem.endswith(f"_{eval_set.lang}") else f"{stem}_{eval_set.lang}"


def check_new_name(name: str, taken: list[str], key: str) -> str:
    """``name`` made safe for metric keys, refused if another set already has it."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if name in taken:
        raise ConfigError(key, f"two evaluation sets are named '{name}'; give one a distinct 'name'")
    return name


def load_eval_sets(task: Task, sets: list[EvalSet], key: str, taken: list[str]) -> list[LoadedEvalSet]:
    """Load each set (its language was checked when the data module was built); with
    ``fewshot: k`` and no ``fewshot_path`` its first k examples become the in-context examples
    and are not scored.

    A ``fewshot_path`` is loaded by the task like any set (so MGSM-style exemplars keep their
    worked reasoning, see ``MathTask``); from the Hub its ``train`` split is read, where
    benchmarks keep their exemplars (``hf://juletxara/mgsm:de``)."""
    names = list(taken)
    loaded = []
    for i, eval_set in enumerate(sets):
        set_key = f"{key}[{i}]"
        check_range(f"{set_key}.fewshot", eval_set.fewshot)
        check_limit(eval_set.limit, f"{set_key}.limit")
        name = check_new_name(eval_set.name or default_name(eval_set), names, set_key)
        names.append(name)
        examples = task.load(eval_set.path, eval_set.lang, split=eval_set.split)
        shots: list[Example] = []
        if eval_set.fewshot:
            if eval_set.fewshot_path:
                hub = eval_set.fewshot_path.startswith(HUB_PREFIX)
                pool = task.load(eval_set.fewshot_path, eval_set.lang, split="train" if hub else None)
            else:
                pool, examples = examples[: eval_set.fewshot], examples[eval_set.fewshot :]
            if len(pool) < eval_set.fewshot or not examples:
                raise ConfigError(
                    f"{set_key}.fewshot",
                    f"{eval_set.fewshot} in-context examples asked for; {len(pool)} available "
                    f"and {len(examples)} left to score",
                )
            shots = pool[: eval_set.fewshot]
        examples = examples[: eval_set.limit] if eval_set.limit is not None else examples
        loaded.append(LoadedEvalSet(name, eval_set.lang, examples, shots, eval_set.max_new_tokens, set_key))
    return loaded
