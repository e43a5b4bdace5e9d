"""The report's "What explains the gain" section: per target language, how well the model
translates (chrF against human references), how much of its self-translated data the filters
kept, each method's gain over the baseline, and that gain as a share of the gain of
translate-train on *human* translations of the same source data (the upper bound no
self-translation can beat).

The paper (Self-Translate-Train, arXiv 2407.00454, Sec. 5) finds larger gains where the model
translates better; this section and ``quality_vs_gain.png`` put a run set's numbers side by side
so a reader can check that for their model.
"""

from __future__ import annotations

from collections import defaultdict

from selftt.report.collect import Collection
from selftt.report.statistics_section import ReportStatistics
from selftt.report.table import _md_table, translation_quality

UPPER_BOUND = "translate-train-human"
"""The method trained on human translations of the same source data: what self-translation can reach."""

DASH = "—"


def kept_shares(coll: Collection) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(task, method, target language) -> (self-translated examples kept, made), summed over the
    method's runs in the tables (``self_translation`` of their results.json)."""
    acc: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for run in coll.used_runs:
        for lang, entry in run.self_translation.items():
            acc[run.task, run.method, lang][0] += int(entry.get("kept", 0))
            acc[run.task, run.method, lang][1] += int(entry.get("total", 0))
    return {key: (kept, total) for key, (kept, total) in acc.items()}


def _rows(coll: Collection, baseline: str, stats: ReportStatistics) -> list[list[str]]:
    quality = translation_quality(coll)
    kept = kept_shares(coll)
    rows = []
    for task in coll.tasks:
        for column in coll.columns[task]:
            top = coll.gain(task, UPPER_BOUND, column, baseline)
            top_test = stats.comparisons.get((task, column.label, UPPER_BOUND))
            noisy_top = top_test is not None and top_test.within_noise
            chrf = (quality.get((task, column.lang)) or {}).get("chrf")
            for method in coll.methods:
                gain = coll.gain(task, method, column, baseline)
                shown = (task, method, column.lang) in kept or method == UPPER_BOUND
                if method == baseline or gain is None or not shown:
                    continue
                made = kept.get((task, method, column.lang))
                rows.append(
                    [
                        task,
                        column.label,
                        method,
                        _chrf(chrf, method),
                        DASH if not made or not made[1] else f"{100.0 * made[0] / made[1]:.0f}%",
                        f"{gain:+.1f}",
                        DASH if top is None else f"{top:+.1f}",
                        _share(gain, top, method, noisy_top),
                    ]
                )
    return rows


def _chrf(chrf: float | None, method: str) -> str:
    """The model's translation quality; not on the upper bound's row, which trained on human translations."""
    if method == UPPER_BOUND:
        return f"{DASH} (human)"
    return DASH if chrf is None else f"{chrf:.1f}"


def _share(gain: float, top: float | None, method: str, noisy_top: bool) -> str:
    if method == UPPER_BOUND or top is None or top <= 0:
        return DASH
    if noisy_top:  # a ratio to a gain that may be zero says nothing
        return f"{DASH} (upper bound within noise)"
    return f"{100.0 * gain / top:.0f}%"


def explain_section(coll: Collection, baseline: str, stats: ReportStatistics) -> list[str]:
    """Markdown lines: one row per (task, language column, method trained on self-translated data
    or the upper bound) with a gain over ``baseline``: chrF of the model's translations of the
    quality references (``translation.quality``, mean over the runs reporting it; none on the
    upper bound's row, which trained on human translations), the share of
    the method's self-translations kept by the filters, the gain (difference of means over seeds,
    points of the primary metric), the upper bound's gain and the share of it the method reaches
    (none where the upper bound gains nothing, or where ``stats`` finds its gain within noise: a
    share of a gain that may be zero says nothing). Empty when no run qualifies."""
    rows = _rows(coll, baseline, stats)
    if not rows:
        return []
    header = [
        "Task",
        "Lang",
        "Method",
        "chrF",
        "Kept",
        f"gain over {baseline}",
        f"{UPPER_BOUND} gain",
        "share of the upper bound",
    ]
    return [
        "## What explains the gain",
        "",
        "Per language: chrF (0-100) of the model's own translations of the quality references against "
        "their human translation, the share of its self-translated training examples the filters kept, "
        f"each method's gain over `{baseline}` (difference of means over seeds) and that gain as a share "
        f"of the gain of `{UPPER_BOUND}` (trained on the human translation of the same source data, "
        "an upper bound for self-translation); the share is left out where the upper bound's own gain "
        "is within noise (see Statistics). The figure `quality_vs_gain.png` plots chrF against the gain.",
        "",
        *_md_table(header, rows),
        "",
    ]
