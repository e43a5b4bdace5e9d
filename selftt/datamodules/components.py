"""Config records for the parts of the training mixture and the validation sets."""

from __future__ import annotations

from dataclasses import dataclass

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
    """Use only the first N examples (for quick checks)."""
    fewshot: int = 0
    """In-context examples before each prompt in generation-based evaluation (the FewShot
    baseline); taken from ``fewshot_path`` or else from the start of this set, unscored."""
    fewshot_path: str | None = None
    """File of in-context examples in this set's language and format."""
    max_new_tokens: int | None = None
    """Generation budget for this set (default: model.generation.max_new_tokens)."""
