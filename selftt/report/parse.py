"""Read and validate one ``results.json`` (schema: :mod:`selftt.evaluation.results_schema`) into a
:class:`Run` with one :class:`Score` per eval set.

A file that cannot be used at all (unreadable, not JSON, missing or mistyped required keys, no usable
eval set) raises ``ValueError`` naming the problem; single bad eval sets are reported and dropped.
:mod:`selftt.report.collect` groups the parsed runs into table cells.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from selftt.errors import ConfigError
from selftt.evaluation.results_schema import REQUIRED_KEYS, RESULTS_FORMAT, default_primary_metric
from selftt.languages import canonical_code


@dataclass
class Score:
    eval_set: str
    lang: str
    n: int | None
    value: float  # the primary metric
    metrics: dict[str, float]  # every numeric entry of the set (accuracy, f1, unparsed, ...)
    predictions: Path | None = None
    """The set's per-question predictions (JSONL), where results.json names them (files written
    before: None, and the report has no per-question statistics for the set)."""
    predictions_problem: str | None = None
    """Why ``predictions`` is None although results.json has the key (not a relative path inside
    the run folder)."""


@dataclass
class Run:
    path: Path
    run_dir: str
    mtime: float
    stage: str | None
    task: str
    method: str
    model: str | None
    seed: int | None
    step: int | None
    primary_metric: str
    scores: list[Score]
    source_lang: str  # held-out sets in it are not target-language results (files before it: en)
    translation_quality: dict[str, dict[str, float]]
    settings: dict
    self_translation: dict[str, dict] = field(default_factory=dict)
    """Per target language: ``kept``, ``total``, ``rejected`` and ``answer_found`` counts (see
    ``results_schema.Results.self_translation``); files written before it: empty."""


def _lang(code: str) -> str:
    """A language code as the rest of selftt writes it (``"de-DE"``, ``"zh-Hant"``: canonical BCP 47
    via :func:`selftt.languages.canonical_code`); a code that is not valid, lower-cased."""
    try:
        return canonical_code(code)
    except ConfigError:
        return code.lower()


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _nonempty_str(data: dict, key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _predictions_path(results: Path, name: str, rel) -> tuple[Path | None, str | None]:
    """(the predictions file ``metrics.<name>.predictions`` names, None) or (None, why not): it
    must be a path relative to the run folder that stays inside it (a results.json cannot point
    the statistics at another run's answers)."""
    if rel is None:
        return None, None
    key = f"metrics.{name}.predictions"
    if not isinstance(rel, str) or not rel.strip():
        return None, f"'{key}' must be a relative path, got {rel!r}"
    if Path(rel).is_absolute() or not (results.parent / rel).resolve().is_relative_to(results.parent.resolve()):
        return None, f"'{key}' must stay inside the run folder, got {rel!r}"
    return results.parent / rel, None


def parse_results(path: Path, metric: str | None = None) -> tuple[Run, list[str]]:
    """Read one ``results.json``; raise ValueError naming the problem, or return the run and the
    problems with single eval sets (those sets are dropped, the rest of the file is used).
    ``metric`` (e.g. ``exact_match``) replaces the file's ``primary_metric`` as the value the
    run is compared by; sets without it are dropped like sets without the primary metric."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg} at line {err.lineno})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot be read ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"top level is a {type(data).__name__}, not an object")
    if data.get("format", RESULTS_FORMAT) != RESULTS_FORMAT:
        raise ValueError(
            f"unsupported format {data.get('format')!r} (this report reads format {RESULTS_FORMAT})"
        )
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ValueError("missing key(s) " + ", ".join(f"'{k}'" for k in missing))
    task, method = _nonempty_str(data, "task"), _nonempty_str(data, "method")
    seed = data["seed"]  # null when the run did not seed (no seed_everything): an "unset" seed
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError(f"'seed' must be an integer or null, got {seed!r}")
    primary = metric or data.get("primary_metric") or default_primary_metric(task)
    if not isinstance(primary, str):
        raise ValueError(f"no 'primary_metric' and no default for task {task!r}")
    metrics = data["metrics"]
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError("'metrics' must be a non-empty object")
    scores, problems = [], []
    for name, m in metrics.items():
        lang = m.get("lang") if isinstance(m, dict) else None
        if not isinstance(lang, str) or not lang:
            problems.append(f"'{name}' (no 'lang')")
            continue
        if not _is_number(m.get(primary)):
            problems.append(f"'{name}' (no numeric '{primary}')")
            continue
        n = m.get("n")
        n = n if isinstance(n, int) and not isinstance(n, bool) else None
        nums = {k: float(v) for k, v in m.items() if k not in ("lang", "n") and _is_number(v)}
        predictions, problem = _predictions_path(path, name, m.get("predictions"))
        scores.append(Score(name, _lang(lang), n, float(m[primary]), nums, predictions, problem))
    if not scores:
        raise ValueError("no usable evaluation set: " + ", ".join(problems))
    tq = {}
    raw_tq = data.get("translation_quality")
    for lang, q in (raw_tq if isinstance(raw_tq, dict) else {}).items():
        if isinstance(q, dict):
            tq[_lang(lang)] = {k: float(q[k]) for k in ("bleu", "chrf") if _is_number(q.get(k))}
    stage, model, step = data.get("stage"), data.get("model"), data.get("step")
    settings = data.get("settings")
    run = Run(
        path=path,
        run_dir=str(data.get("run_dir") or path.parent),
        mtime=path.stat().st_mtime,
        stage=stage if isinstance(stage, str) else None,
        task=task,
        method=method,
        model=model if isinstance(model, str) else None,
        seed=seed,
        step=step if isinstance(step, int) and not isinstance(step, bool) else None,
        primary_metric=primary,
        scores=scores,
        source_lang=_lang(source) if isinstance(source := data.get("source_lang"), str) and source else "en",
        translation_quality={k: v for k, v in tq.items() if v},
        settings=settings if isinstance(settings, dict) else {},
        self_translation=_self_translation(data.get("self_translation")),
    )
    return run, problems


def _self_translation(raw: object) -> dict[str, dict]:
    """The well-formed entries of ``self_translation`` (integer counts only); others dropped."""
    out: dict[str, dict] = {}
    for lang, entry in (raw if isinstance(raw, dict) else {}).items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), int) for k in ("kept", "total")):
            continue
        clean = {"kept": entry["kept"], "total": entry["total"]}
        for key in ("rejected", "answer_found"):
            counts = entry.get(key)
            if isinstance(counts, dict):
                clean[key] = {str(k): v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
        out[_lang(str(lang))] = clean
    return out
