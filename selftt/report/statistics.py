"""Statistics of a report's cells from the saved per-question predictions: confidence intervals
that count both seeds and questions, and paired comparisons of each method with the baseline.

Every number here is recomputable from the run folders alone: each ``results.json`` names the
predictions file of each evaluation set (``metrics.<set>.predictions``, relative to the run
folder), whose records hold the answer and the gold; a question's score is the task's primary
metric of that one answer (``Task.score([answer], [gold], lang)``), so the mean over questions
is the set's score (exact match, F1 and accuracy are means over questions).

Procedures (fixed, so an independent script can reproduce them):

- **Resampling units**: each interval is computed twice where the predictions record each
  question's ``passage`` (a digest of the text several questions share: the QA context, the NLI
  premise): once with each question its own unit, once with whole passages as units, each
  bringing all its questions, a resample's mean being over the questions drawn (a cluster
  bootstrap; Field & Welsh 2007, "Bootstrapping clustered data"; Miller 2024, "Adding error bars
  to evals", arXiv 2411.00640). Neither is always the wider: questions of one passage that
  succeed or fail together widen the passage interval, and with few passages its estimate is
  itself noisy, so the report shows both and reads them conservatively (below). Units are
  numbered in sorted order of their passage digests (of the columns, for questions). Each
  interval draws from a fresh ``numpy.random.default_rng(RNG_SEED)``.
- **Cell interval**: a two-level percentile bootstrap, ``N_BOOTSTRAP`` resamples drawn with
  ``numpy.random.default_rng(RNG_SEED)`` in chunks of ``CHUNK``: per chunk, the seeds (chunk x
  seeds) and then the units (chunk x units) with replacement, the same units for every drawn
  seed; each resample's statistic is the mean over the drawn seeds' scores of the drawn units'
  questions. Seed-to-seed and question-to-question variation both widen it (Koehn 2004,
  "Statistical significance tests for machine translation evaluation"; Dror et al. 2018, "The
  hitchhiker's guide to testing statistical significance in NLP").
- **Paired difference** of a method and the baseline on the questions both answered: per
  question, each side's mean over its seeds; the difference of the means, its interval by the
  same two-level bootstrap (per chunk: the units, drawn once for both sides, then the method's
  seeds, then the baseline's), and a two-sided p-value by approximate randomization
  (a paired permutation test: ``scipy.stats.permutation_test`` with
  ``permutation_type='samples'``, ``N_PERMUTATIONS`` resamples, ``random_state=RNG_SEED``; the
  two-sided p is twice the smaller tail, so its Monte Carlo error near p = 0.05 is about 0.001).
- **By passage** (where passages are known): the same randomization test with the signs of whole
  passages flipped together (``scipy.stats.permutation_test`` on the per-passage sums of the
  per-question differences, one sample, ``permutation_type='samples'`` = sign flips,
  ``N_PERMUTATIONS`` resamples, ``random_state=RNG_SEED``). Questions on one passage are not
  independent; this p-value does not assume they are.
- **Multiple comparisons**: each comparison's ``q_value`` is the Benjamini-Hochberg adjusted
  p-value (false discovery rate; ``scipy.stats.false_discovery_control(method='bh')``; Benjamini
  & Hochberg 1995) over all the comparisons of one report, of each comparison's larger
  randomization p (by question, by passage where known). It is shown beside the per-comparison
  reading, which it does not change.
- **Welch's t-test** over the seed means (``scipy.stats.ttest_ind(equal_var=False)``; the
  paper's test), where both sides have at least two seeds.

A gain is called *within noise* when one of its intervals (by question, by passage where
known) contains 0 or one of its randomization p-values is at least ``ALPHA`` (any test failing to
reject: the conservative reading).

Not modelled: with one seed a cell's interval covers question sampling only (training
randomness needs 2+ seeds); where passages are unknown, questions sharing a passage count as
independent; the reading of each comparison is uncorrected (the q-value is the corrected view).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

N_BOOTSTRAP = 10_000
"""Bootstrap resamples of the intervals (Monte Carlo error of an endpoint about 0.1 point on 110 questions)."""
N_PERMUTATIONS = 100_000
"""Resamples of the randomization test."""
CHUNK = 1_000
"""Bootstrap resamples drawn at once (bounds memory: chunk x seeds x questions floats)."""
RNG_SEED = 0
"""Seed of every resampling (reports are reproducible)."""
CONFIDENCE = 0.95
"""Coverage of the percentile intervals."""
ALPHA = 0.05
"""Significance level of the 'within noise' note."""


@dataclass(frozen=True)
class CellStats:
    """A cell's spread: ``n_questions`` common to its seeds, ``mean`` over seeds and questions
    (0-100 like the metric), ``std`` over seed means (None: one seed), ``ci`` (low, high)
    resampling questions, and where passages are known ``ci_passage`` resampling the
    ``n_passages`` passages (else both None)."""

    n_seeds: int
    n_questions: int
    mean: float
    std: float | None
    ci: tuple[float, float]
    ci_passage: tuple[float, float] | None = None
    n_passages: int | None = None


@dataclass(frozen=True)
class PairedComparison:
    """``method`` minus ``baseline`` on ``n_questions`` questions both answered: ``diff`` (points),
    its ``ci`` resampling questions, the randomization ``p_value``, ``p_welch`` (Welch's t-test
    over seed means; None with fewer than two seeds on a side), and where passages are known
    ``ci_passage`` and ``p_passage`` (passages resampled, flipped whole) over ``n_passages``
    (else None); ``q_value`` corrected over a report's comparisons (:func:`with_q_values`);
    ``within_noise`` reads the per-comparison figures conservatively (module docstring)."""

    n_questions: int
    diff: float
    ci: tuple[float, float]
    p_value: float
    p_welch: float | None
    ci_passage: tuple[float, float] | None = None
    p_passage: float | None = None
    n_passages: int | None = None
    q_value: float | None = None

    @property
    def larger_p(self) -> float:
        """The larger randomization p-value: by question, or by passage where known."""
        return self.p_value if self.p_passage is None else max(self.p_value, self.p_passage)

    @property
    def within_noise(self) -> bool:
        intervals = [self.ci] + ([] if self.ci_passage is None else [self.ci_passage])
        return any(low <= 0.0 <= high for low, high in intervals) or self.larger_p >= ALPHA


def question_scores(records: Sequence[dict], task, lang: str, primary: str) -> dict[str, float]:
    """Per question id, ``primary`` of its one answer scored alone by ``task``
    (:meth:`selftt.tasks.base.Task.score` on one prediction; 0-100). Raises ValueError naming the
    question whose answer or gold the task cannot score, or a ``primary`` the task does not give."""
    scores = {}
    for r in records:
        try:
            metrics = task.score([r.get("answer")], [r["gold"]], lang)
        except (TypeError, ValueError, AttributeError, KeyError) as err:
            raise ValueError(f"question {r['id']!r}: answer or gold cannot be scored ({err})") from None
        if primary not in metrics:
            raise ValueError(f"the task gives no {primary!r} per question (it gives {', '.join(metrics)})")
        scores[str(r["id"])] = float(metrics[primary])
    return scores


def question_passages(records: Sequence[dict]) -> dict[str, str] | None:
    """Per question id, its ``passage`` digest; None unless every record has one."""
    if not records or not all(isinstance(r.get("passage"), str) for r in records):
        return None
    return {str(r["id"]): r["passage"] for r in records}


def read_predictions(path: Path) -> list[dict]:
    """The records of one predictions JSONL file. Raises ValueError naming the file (and line):
    not UTF-8, not JSON, a record without ``id`` and ``gold``, an id seen before, no record."""
    records, seen = [], {}
    try:
        with path.open(encoding="utf-8") as f:
            lines = list(f)
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not valid JSON ({err.msg})") from None
        if not isinstance(record, dict) or "id" not in record or "gold" not in record:
            raise ValueError(f"{path}:{number}: expected an object with 'id' and 'gold'")
        key = str(record["id"])
        if key in seen:
            raise ValueError(f"{path}:{number}: id {key!r} again (first on line {seen[key]})")
        seen[key] = number
        records.append(record)
    if not records:
        raise ValueError(f"{path}: no predictions (the file is empty)")
    return records


def score_matrix(per_seed: Sequence[dict[str, float]], ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(question ids, seeds x questions array) over the questions every seed answered (or ``ids``)."""
    common = set.intersection(*(set(s) for s in per_seed)) if per_seed else set()
    ids = sorted(common) if ids is None else [i for i in ids if i in common]
    return list(ids), np.array([[s[i] for i in ids] for s in per_seed], dtype=float).reshape(len(per_seed), len(ids))


def _percentile(values: np.ndarray) -> tuple[float, float]:
    tail = 100.0 * (1.0 - CONFIDENCE) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _units(scores: np.ndarray, passages: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """(seeds x units score sums, questions per unit): one unit per passage (sorted by digest),
    or per question where ``passages`` is None. Raises ValueError when ``passages`` has another
    length than the questions."""
    if passages is None:
        return scores, np.ones(scores.shape[1])
    if len(passages) != scores.shape[1]:
        raise ValueError(f"{len(passages)} passages for {scores.shape[1]} questions")
    which = _passage_index(passages)
    counts = np.bincount(which).astype(float)
    sums = np.stack([np.bincount(which, weights=row, minlength=len(counts)) for row in scores])
    return sums, counts


def _passage_index(passages: Sequence[str]) -> np.ndarray:
    """Each question's passage number, passages numbered in sorted order of their digests."""
    return np.unique(np.asarray(passages, dtype=object).astype(str), return_inverse=True)[1]


def _resampled_means(sums: np.ndarray, counts: np.ndarray, seeds: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per resample (rows of ``seeds``: chunk x seeds, of ``units``: chunk x units), the mean
    score over the drawn seeds and the questions of the drawn units."""
    total = sums[seeds[:, :, None], units[:, None, :]].sum(axis=(1, 2))
    return total / (seeds.shape[1] * counts[units].sum(axis=1))


def _cell_interval(scores: np.ndarray, passages: Sequence[str] | None) -> tuple[float, float]:
    """The two-level bootstrap interval of a seeds x questions array's mean (module docstring)."""
    sums, counts = _units(scores, passages)
    rng = np.random.default_rng(RNG_SEED)
    means = np.empty(N_BOOTSTRAP)
    for start in range(0, N_BOOTSTRAP, CHUNK):
        b = min(CHUNK, N_BOOTSTRAP - start)
        seeds = rng.integers(scores.shape[0], size=(b, scores.shape[0]))
        units = rng.integers(len(counts), size=(b, len(counts)))
        means[start : start + b] = _resampled_means(sums, counts, seeds, units)
    return _percentile(means)


def cell_stats(scores: np.ndarray, passages: Sequence[str] | None = None) -> CellStats:
    """Mean, seed std and two-level bootstrap intervals of a seeds x questions array, by question
    and, where the questions' ``passages`` (same order) are given, by passage (see the module
    docstring). Raises ValueError for an empty array or ``passages`` of another length."""
    n_seeds, n_questions = scores.shape
    if not n_seeds or not n_questions:
        raise ValueError("no question answered by every seed")
    seed_means = scores.mean(axis=1)
    std = float(np.std(seed_means, ddof=1)) if n_seeds > 1 else None
    by_passage = None if passages is None else _cell_interval(scores, passages)
    n_passages = None if passages is None else len(set(passages))
    return CellStats(
        n_seeds, n_questions, float(seed_means.mean()), std, _cell_interval(scores, None), by_passage, n_passages
    )


def paired_comparison(
    method: np.ndarray, baseline: np.ndarray, passages: Sequence[str] | None = None
) -> PairedComparison:
    """``method`` minus ``baseline``, both seeds x questions arrays over the same questions in the
    same order, with each question's passage (same order) where known (see the module
    docstring). Raises ValueError when the question counts differ or are 0, or ``passages``
    has another length."""
    from scipy import stats

    if method.shape[1] != baseline.shape[1] or not method.shape[1]:
        raise ValueError(f"paired comparison needs the same questions, got {method.shape[1]} and {baseline.shape[1]}")
    n_questions = method.shape[1]
    if passages is not None and len(passages) != n_questions:
        raise ValueError(f"{len(passages)} passages for {n_questions} questions")
    per_question = method.mean(axis=0), baseline.mean(axis=0)
    if np.array_equal(*per_question):
        p_value = 1.0  # no question differs: every relabelling gives the same statistic
    else:
        p_value = _randomization_p(per_question, lambda x, y, axis: np.mean(x - y, axis=axis))
    p_welch = None
    seed_a, seed_z = method.mean(axis=1), baseline.mean(axis=1)
    if len(seed_a) > 1 and len(seed_z) > 1:
        with warnings.catch_warnings():  # seed means that (nearly) coincide: scipy warns, p is nan or ~1
            warnings.simplefilter("ignore", RuntimeWarning)
            welch = stats.ttest_ind(seed_a, seed_z, equal_var=False)
        p_welch = None if np.isnan(welch.pvalue) else float(welch.pvalue)
    diff = float(per_question[0].mean() - per_question[1].mean())
    ci = _difference_interval(method, baseline, None)
    if passages is None:
        return PairedComparison(n_questions, diff, ci, p_value, p_welch)
    p_passage, n_passages = _p_by_passage(per_question[0] - per_question[1], passages)
    ci_passage = _difference_interval(method, baseline, passages)
    return PairedComparison(n_questions, diff, ci, p_value, p_welch, ci_passage, p_passage, n_passages)


def _difference_interval(
    method: np.ndarray, baseline: np.ndarray, passages: Sequence[str] | None
) -> tuple[float, float]:
    """The paired two-level bootstrap interval of ``method`` minus ``baseline`` (module docstring)."""
    (sums_a, counts), (sums_z, _) = _units(method, passages), _units(baseline, passages)
    rng = np.random.default_rng(RNG_SEED)
    diffs = np.empty(N_BOOTSTRAP)
    for start in range(0, N_BOOTSTRAP, CHUNK):
        b = min(CHUNK, N_BOOTSTRAP - start)
        units = rng.integers(len(counts), size=(b, len(counts)))
        seeds_a = rng.integers(method.shape[0], size=(b, method.shape[0]))
        seeds_z = rng.integers(baseline.shape[0], size=(b, baseline.shape[0]))
        a = _resampled_means(sums_a, counts, seeds_a, units)
        diffs[start : start + b] = a - _resampled_means(sums_z, counts, seeds_z, units)
    return _percentile(diffs)


def with_q_values(comparisons: dict) -> dict:
    """``comparisons`` (any keys) with ``q_value`` set: Benjamini-Hochberg over all of them of each
    one's larger randomization p (module docstring)."""
    from scipy import stats

    if not comparisons:
        return {}
    keys = list(comparisons)
    q_values = stats.false_discovery_control([c.larger_p for c in comparisons.values()], method="bh")
    return {k: replace(comparisons[k], q_value=float(q)) for k, q in zip(keys, q_values, strict=True)}


def _p_by_passage(differences: np.ndarray, passages: Sequence[str]) -> tuple[float, int]:
    """Two-sided sign-flip p-value of the mean difference with whole passages flipped together,
    and the number of passages."""
    sums = np.bincount(_passage_index(passages), weights=differences)
    if not np.any(sums):
        return 1.0, len(sums)
    return _randomization_p((sums,), lambda x, axis: np.sum(x, axis=axis)), len(sums)


def _randomization_p(data: tuple[np.ndarray, ...], statistic) -> float:
    """Two-sided p-value of ``statistic`` under ``scipy.stats.permutation_test`` with
    ``permutation_type='samples'`` (paired relabelling; sign flips for one sample),
    ``N_PERMUTATIONS`` resamples and ``random_state=RNG_SEED``."""
    from scipy import stats

    test = stats.permutation_test(
        data,
        statistic,
        permutation_type="samples",
        n_resamples=N_PERMUTATIONS,
        alternative="two-sided",
        random_state=RNG_SEED,
        batch=CHUNK * 10,
    )
    return float(test.pvalue)
