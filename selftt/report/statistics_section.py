"""The report's statistics section: per cell an interval over seeds and questions, and per method
a paired comparison with the baseline, from the predictions each run saved (procedures in
:mod:`selftt.report.statistics`). Also written as ``statistics.json`` for scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from selftt.report.collect import Cell, Collection, Column
from selftt.report.statistics import (
    ALPHA,
    CONFIDENCE,
    N_BOOTSTRAP,
    N_PERMUTATIONS,
    RNG_SEED,
    CellStats,
    PairedComparison,
    cell_stats,
    paired_comparison,
    question_passages,
    question_scores,
    read_predictions,
    score_matrix,
    with_q_values,
)

DASH = "—"


@dataclass
class ReportStatistics:
    """Per (task, method, column label): the cell's stats and, for methods other than the
    baseline, the paired comparison; ``problems``: why a cell has none (one line each)."""

    cells: dict[tuple[str, str, str], CellStats] = field(default_factory=dict)
    comparisons: dict[tuple[str, str, str], PairedComparison] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_json(self, baseline: str) -> dict:
        """A JSON-ready record (keys ``task/column/method``) with the procedure's constants."""
        return {
            "procedure": {
                "n_bootstrap": N_BOOTSTRAP,
                "n_permutations": N_PERMUTATIONS,
                "rng_seed": RNG_SEED,
                "confidence": CONFIDENCE,
                "alpha": ALPHA,
                "baseline": baseline,
                "module": "selftt.report.statistics",
            },
            "cells": {"/".join(k): asdict(v) for k, v in self.cells.items()},
            "comparisons": {
                "/".join(k): {**asdict(v), "within_noise": v.within_noise} for k, v in self.comparisons.items()
            },
            "problems": list(self.problems),
        }


VALUE_TOLERANCE = 0.01
"""Points by which a seed's mean over its predictions may differ from its results.json value."""


def _cell_matrix(cell: Cell, problems: list[str]) -> tuple[list[str], np.ndarray, dict[str, str] | None] | None:
    """The cell's question ids, seeds x questions scores and the questions' passages (None
    unless every seed's predictions record them), or None (and a line in ``problems``) when a
    seed's predictions are missing or unreadable, or disagree with its results.json (another
    mean or count), or the seeds answered different questions."""
    from selftt.tasks import get_task

    try:
        task = get_task(cell.task)
    except Exception as err:  # a plugin task that is not importable here
        problems.append(f"{cell.name}: no per-question statistics (task {cell.task!r}: {err})")
        return None
    per_seed = []
    passages: dict[str, str] | None = {}
    for entry in cell.entries:
        path = entry.score.predictions
        if path is None or not path.is_file():
            if path is not None:
                where = f"{path} is missing"
            else:
                why = entry.score.predictions_problem or "results.json names no predictions file"
                where = f"{entry.run.path}: {why}"
            problems.append(f"{cell.name}: no per-question statistics ({where})")
            return None
        try:
            records = read_predictions(path)
            scores = question_scores(records, task, entry.score.lang, entry.run.primary_metric)
        except ValueError as err:
            where = "" if str(path) in str(err) else f"{path}: "
            problems.append(f"{cell.name}: no per-question statistics ({where}{err})")
            return None
        disagreement = _disagreement(entry, scores)
        if disagreement:
            problems.append(f"{cell.name}: no per-question statistics ({path}: {disagreement})")
            return None
        per_seed.append(scores)
        seen = question_passages(records)
        if seen is None and passages is not None and any("passage" in r for r in records):
            missing = [str(r["id"]) for r in records if not isinstance(r.get("passage"), str)]
            problems.append(
                f"{cell.name}: no by-passage statistics ({path}: {len(missing)} of {len(records)} records "
                f"have no 'passage', first id {missing[0]!r})"
            )
        passages = None if passages is None or seen is None else {**seen, **passages}
    ids, matrix = score_matrix(per_seed)
    if not ids or any(len(s) != len(ids) for s in per_seed):
        problems.append(
            f"{cell.name}: no per-question statistics (its seeds answered different questions: "
            f"{len(ids)} in common of {', '.join(str(len(s)) for s in per_seed)})"
        )
        return None
    return ids, matrix, passages


def _disagreement(entry, scores: dict[str, float]) -> str | None:
    """How a seed's predictions disagree with its results.json (count, mean), or None."""
    if entry.score.n is not None and entry.score.n != len(scores):
        return f"{len(scores)} predictions, but results.json says n = {entry.score.n}"
    mean = float(np.mean(list(scores.values())))
    if abs(mean - entry.score.value) > VALUE_TOLERANCE:
        metric = entry.run.primary_metric
        return f"the predictions give {metric} {mean:.2f}, but results.json says {entry.score.value:.2f}"
    return None


def compute(coll: Collection, baseline: str) -> ReportStatistics:
    """Statistics of every cell of ``coll`` and comparisons with ``baseline`` in the same column."""
    out = ReportStatistics()
    matrices: dict[tuple[str, str, Column], tuple[list[str], np.ndarray, dict[str, str] | None]] = {}
    for (task, method, column), cell in coll.cells.items():
        got = _cell_matrix(cell, out.problems)
        if got is not None:
            matrices[task, method, column] = got
            ids, matrix, passages = got
            cell_passages = None if passages is None else [passages[i] for i in ids]
            out.cells[task, column.label, method] = cell_stats(matrix, cell_passages)
    for (task, method, column), (ids, matrix, passages) in matrices.items():
        base = matrices.get((task, baseline, column))
        if method == baseline or base is None:
            continue
        common = sorted(set(ids) & set(base[0]))
        if not common:
            out.problems.append(f"{task}/{column.label}/{method}: no question in common with {baseline}")
            continue
        out.comparisons[task, column.label, method] = paired_comparison(
            _columns(ids, matrix, common), _columns(base[0], base[1], common), _passages(common, passages, base[2])
        )
    out.comparisons = with_q_values(out.comparisons)
    return out


def _passages(ids: list[str], mine: dict[str, str] | None, base: dict[str, str] | None) -> list[str] | None:
    """The passage of each question of ``ids`` where both sides know it and agree; else None."""
    if mine is None or base is None or any(mine.get(i) != base.get(i) for i in ids):
        return None
    return [mine[i] for i in ids]


def _columns(ids: list[str], matrix: np.ndarray, keep: list[str]) -> np.ndarray:
    """The columns of ``matrix`` (one per id of ``ids``) for the ids ``keep``, in that order."""
    where = {i: n for n, i in enumerate(ids)}
    return matrix[:, [where[i] for i in keep]]


def _interval(ci: tuple[float, float] | None) -> str:
    return DASH if ci is None else f"[{ci[0]:.1f}, {ci[1]:.1f}]"


def format_p(p: float | None) -> str:
    """A p-value as the report prints it: three decimals, four where three would hide which side
    of ``ALPHA`` it is on (0.0505), ``<0.001``, or a dash for None."""
    if p is None:
        return DASH
    if p < 0.001:
        return "<0.001"
    return f"{p:.4f}" if round(p, 3) == ALPHA else f"{p:.3f}"


def render(stats: ReportStatistics, coll: Collection, baseline: str) -> list[str]:
    """Markdown lines of the statistics section."""
    out = ["## Statistics", ""]
    out += [
        f"Per cell: mean over seeds and questions, standard deviation of the seed means, and a "
        f"{CONFIDENCE:.0%} interval from a bootstrap that resamples seeds and questions "
        f"({N_BOOTSTRAP} resamples, seed {RNG_SEED}), and where the predictions record each question's "
        "passage (QA context, NLI premise) a second one that resamples whole passages. Per method "
        f"against `{baseline}`, on the questions both answered: the difference, its bootstrap "
        "interval(s), the p-value of a paired approximate-randomization test "
        f"({N_PERMUTATIONS} resamples), the same test flipping the questions of one passage together "
        "(where passages are recorded), and Welch's t-test over seed means (needs 2+ seeds a side). "
        f"Reading: *within noise* when an interval holds 0 or a randomization p >= {ALPHA} (a test "
        "failing to reject, not evidence of no difference); otherwise *gain* or *loss*. "
        "Procedures: `selftt/report/statistics.py`; "
        "numbers also in `statistics.json`.",
        "",
    ]
    if not stats.cells:
        return out + ["No cell has saved per-question predictions.", ""] + _problems(stats)
    by_passage = any(c.n_passages is not None for c in stats.cells.values())
    header = ["Task", "Lang", "Method", "Seeds", "Questions", "Mean", "Std", "95% CI (by question)"]
    header += ["95% CI (by passage)"] if by_passage else []
    header += [f"Δ vs {baseline}", "Δ 95% CI (by question)"] + (["Δ 95% CI (by passage)"] if by_passage else [])
    header += ["p (randomization)"] + (["p (by passage)"] if by_passage else []) + ["p (Welch)", "q (BH)", "Reading"]
    rows = []
    for task in coll.tasks:
        for column in coll.columns[task]:
            for method in coll.methods:
                cell = stats.cells.get((task, column.label, method))
                if cell is None:
                    continue
                comp = stats.comparisons.get((task, column.label, method))
                std = DASH if cell.std is None else f"{cell.std:.1f}"
                row = [task, column.label, method, str(cell.n_seeds), str(cell.n_questions), f"{cell.mean:.1f}"]
                row += [std, _interval(cell.ci)] + ([_interval(cell.ci_passage)] if by_passage else [])
                if comp is None:
                    row += [DASH] * (len(header) - len(row))
                else:
                    reading = "within noise" if comp.within_noise else ("gain" if comp.diff > 0 else "loss")
                    row += [f"{comp.diff:+.1f}", _interval(comp.ci)]
                    row += [_interval(comp.ci_passage)] if by_passage else []
                    row += [format_p(comp.p_value)] + ([format_p(comp.p_passage)] if by_passage else [])
                    row += [format_p(comp.p_welch), format_p(comp.q_value), reading]
                rows.append(row)
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""] + _caveats(stats) + _problems(stats)


def _caveats(stats: ReportStatistics) -> list[str]:
    """What the intervals do not count (see ``selftt.report.statistics``)."""
    lines = []
    if any(c.n_seeds == 1 for c in stats.cells.values()):
        lines.append(
            "Cells with one seed: their interval covers question sampling only, not training randomness."
        )
    if any(c.n_passages is None for c in stats.cells.values()):
        lines.append(
            "Cells whose predictions record no passages: their intervals resample questions one by one, "
            "so questions that share a passage count as independent."
        )
    flat = [name for name, c in stats.cells.items() if c.ci[0] == c.ci[1]]
    if flat:
        lines.append(
            f"Cells whose questions all scored the same ({', '.join('/'.join(k) for k in flat)}): a "
            "bootstrap interval has no width there, which is not certainty (0 of 50 right has a 95% "
            "Wilson interval of [0, 7.1])."
        )
    n = len(stats.comparisons)
    lines.append(
        f"The readings are per comparison, uncorrected. q (BH): the Benjamini-Hochberg adjusted p over "
        f"all {n} comparisons of this report (false discovery rate), of each one's larger randomization p; "
        f"a reading that is not within noise but has q >= {ALPHA} may be a false discovery."
    )
    return [part for line in lines for part in (line, "")]


def _problems(stats: ReportStatistics) -> list[str]:
    if not stats.problems:
        return []
    return ["Cells without statistics:", "", *[f"- {p}" for p in stats.problems], ""]
