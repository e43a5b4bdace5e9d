"""The schema of ``results.json``: written by :mod:`selftt.evaluation.results`, read by
:mod:`selftt.report.parse`. Light to import (no torch or Lightning) so the report stays fast.

Format 1 (``RESULTS_FORMAT``) holds the keys of :class:`Results`. ``task``, ``method``, ``seed``
and ``metrics`` are required (``Results.__required_keys__``); files written before
``primary_metric`` existed are still read: ``default_primary_metric`` takes it from the task
registry for the built-in tasks.
"""

from __future__ import annotations

from typing import Any, TypedDict

from selftt.tasks import TASKS

RESULTS_FILE = "results.json"
RESULTS_FORMAT = 1
"""The version written; the report reads this one (a file without ``format`` is taken as 1)."""


class SetMetrics(TypedDict, total=False):
    """One evaluation set's entry of ``metrics``: ``lang``, ``n``, ``predictions`` and the task's
    scores (0-100, e.g. ``accuracy``, ``unparsed``, ``exact_match``, ``f1``)."""

    lang: str
    n: int
    predictions: str
    """The set's per-question predictions (JSONL), relative to the run folder (files written
    before: absent); the report's intervals and paired tests are computed from them."""


class _RequiredResults(TypedDict):
    task: str
    """The task's ``name`` (``math``, ``qa``, ``nli`` or a plugin's)."""
    method: str
    """``base``, ``fewshot``, ``zero-shot``, ``stt``, ``stt+cs``, ``translate-train``, ..."""
    seed: int | None
    metrics: dict[str, dict[str, Any]]
    """Per evaluation set name, a :class:`SetMetrics`."""


class Results(_RequiredResults, total=False):
    """A ``results.json`` record (format 1). Optional keys may be missing or null in a file."""

    format: int
    run_dir: str
    stage: str
    """``fit``, ``validate`` or ``test``."""
    model: str
    adapter: str | None
    checkpoint: str | None
    """The ``--ckpt_path`` a ``validate``/``test`` run evaluated (None in ``fit``)."""
    step: int
    """Training step of the evaluated weights (a loaded checkpoint's own step)."""
    primary_metric: str
    """The key of each set's metrics that runs are compared by (the task's ``primary_metric``)."""
    translation_quality: dict[str, dict[str, float]]
    """Per language, ``bleu`` and ``chrf`` of the self-translation against references."""
    component_sizes: dict[str, int]
    self_translation: dict[str, dict[str, Any]]
    """Per target language, what the filters kept of the self-translations: ``kept``, ``total``,
    ``rejected`` (examples per filter rule) and, for extractive QA, ``answer_found`` (answers
    found per method: marker, exact, fuzzy, none) and ``pieces_left_out`` (``pieces``,
    ``examples``: failed context sentences left out). See ``SelfTranslateCallback.data_summary``."""
    source_lang: str
    """Language of the source (``src``) data: its held-out sets are not target-language results
    (absent in files written before: ``en``)."""
    settings: dict[str, Any]
    """``eval_sets``, ``max_examples``, ``generation``, ``prompt_style``, ``quantization``, ``dtype``."""


REQUIRED_KEYS: tuple[str, ...] = tuple(k for k in Results.__annotations__ if k in Results.__required_keys__)
RESULTS_KEYS: tuple[str, ...] = tuple(Results.__annotations__)


def default_primary_metric(task: str) -> str | None:
    """The primary metric of a registered task (for files without ``primary_metric``), else None."""
    cls = TASKS.get(task)
    return cls.primary_metric if cls is not None else None
