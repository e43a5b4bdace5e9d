"""Config records for the parts of the training mixture and the validation sets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from selftt.errors import ConfigError

COMPONENT_NAMES = ("src", "tgt", "cs")
"""src: source-language data; tgt: its self-translation; cs: code-switched pairs."""

CS_DIRECTIONS = ("tgt-src", "src-tgt")
"""Code-switching: '<input language>-<output language>'."""


@dataclass
class DataComponent:
    """One named part of the training mixture."""

    name: str = "src"
    """'src': the source data as it is; 'tgt': its self-translation into ``lang``; 'cs':
    code-switched pairs of the two (input in one language, output in the other)."""
    path: str = ""
    """src only: local file (JSONL, TSV, SQuAD JSON) or 'hf://dataset[:config]'. tgt and cs
    are made from the first src component (after hold-out and limit) and take no path."""
    lang: str = "en"
    """src: the language of the file; tgt and cs: the target language of the translation."""
    split: str | None = None
    """Split for 'hf://' sources (e.g. 'train')."""
    limit: int | None = None
    """Cap: use only the first N examples (src: after the held-out ones are taken off;
    tgt/cs: of those kept by the filters)."""
    weight: float = 1.0
    """Sampling weight: the component's examples are repeated floor(weight) times, plus a
    seeded random fraction for the rest (0.5 keeps a random half)."""
    direction: str = "tgt-src"
    """cs only: 'tgt-src' (target-language input, source-language output) or 'src-tgt'."""


@dataclass
class EvalSet:
    """A validation/test set: a file of task examples in one language."""

    path: str = ""
    """Local file or 'hf://dataset[:config]'."""
    lang: str = "en"
    """Language of the examples and of the prompt."""
    name: str | None = None
    """Name in metric keys (``val/<name>/...``); default '<file stem>_<lang>'."""
    split: str | None = None
    """Split for 'hf://' sources."""
    limit: int | None = None
    """Use only the first N examples (for quick checks); N >= 1, or null for all."""
    fewshot: int = 0
    """In-context examples before each prompt in generation-based evaluation (the FewShot
    baseline); taken from ``fewshot_path`` or else from the start of this set, unscored."""
    fewshot_path: str | None = None
    """File of in-context examples in this set's language and format."""
    max_new_tokens: int | None = None
    """Generation budget for this set (default: model.generation.max_new_tokens)."""


def check_limit(limit: int | None, key: str) -> None:
    """A ``limit`` is null (everything) or a count >= 1: 0 would mean nothing (or, read as
    "unset", everything), so it is refused as a ConfigError naming ``key``."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(key, f"must be >= 1 (or null for no limit), got {limit!r}")


def check_components(components: list[DataComponent]) -> None:
    """Refuse a mixture that cannot be built, naming the config key (``data.components[i]...``)."""
    sources = [c for c in components if c.name == "src"]
    for i, comp in enumerate(components):
        key = f"data.components[{i}]"
        if comp.name not in COMPONENT_NAMES:
            raise ConfigError(
                f"{key}.name",
                f"unknown component '{comp.name}'; expected one of {', '.join(COMPONENT_NAMES)}",
            )
        if comp.name == "src" and not comp.path:
            raise ConfigError(f"{key}.path", "is empty; expected a file or 'hf://' source")
        if comp.name != "src":
            if not sources:
                raise ConfigError(
                    f"{key}.name", f"a '{comp.name}' component needs a 'src' component to translate"
                )
            if comp.path:
                raise ConfigError(
                    f"{key}.path",
                    f"'{comp.name}' is made by self-translation of the first 'src' component; leave 'path' empty",
                )
            if comp.lang == sources[0].lang:
                raise ConfigError(
                    f"{key}.lang", f"'{comp.lang}' is the source language; name a target language"
                )
        if comp.name == "cs" and comp.direction not in CS_DIRECTIONS:
            raise ConfigError(
                f"{key}.direction", f"got '{comp.direction}'; expected one of {', '.join(CS_DIRECTIONS)}"
            )
        check_limit(comp.limit, f"{key}.limit")
        if not (math.isfinite(comp.weight) and comp.weight > 0):  # NaN and inf slip through '<= 0'
            raise ConfigError(f"{key}.weight", f"must be a finite number > 0, got {comp.weight}")
