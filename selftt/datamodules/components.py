"""Config records for the parts of the training mixture and the validation sets."""

from __future__ import annotations

from dataclasses import dataclass

COMPONENT_NAMES = ("src", "tgt", "cs")
"""src: source-language data; tgt: its self-translation; cs: code-switched pairs."""

AVAILABLE_COMPONENTS = ("src",)


@dataclass
class DataComponent:
    """One named part of the training mixture."""

    name: str = "src"
    """Which part: 'src' (the source data as it is; 'tgt' and 'cs' come from self-translation)."""
    path: str = ""
    """Local file (JSONL, TSV, SQuAD JSON) or 'hf://dataset[:config]'."""
    lang: str = "en"
    """Language of the examples in ``path``."""
    split: str | None = None
    """Split for 'hf://' sources (e.g. 'train')."""
    limit: int | None = None
    """Use only the first N examples (after the held-out ones are taken off)."""


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
