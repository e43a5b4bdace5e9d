"""Report statistics: two-level bootstrap intervals, paired comparisons (approximate randomization,
Welch's t-test) and the report section built from saved predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from selftt.report.main import write_report
from selftt.report.statistics import (
    ALPHA,
    N_BOOTSTRAP,
    N_PERMUTATIONS,
    RNG_SEED,
    cell_stats,
    paired_comparison,
    question_scores,
    read_predictions,
    score_matrix,
)
from selftt.tasks import get_task


def binary(rng: np.random.Generator, p: float, seeds: int, questions: int) -> np.ndarray:
    return 100.0 * (rng.random((seeds, questions)) < p)


def test_cell_interval_covers_the_truth_and_shrinks_with_questions():
    rng = np.random.default_rng(1)
    small, large = binary(rng, 0.4, 3, 100), binary(rng, 0.4, 3, 1600)
    for m in (small, large):
        s = cell_stats(m)
        assert s.ci[0] < 40.0 < s.ci[1]
        assert s.mean == pytest.approx(m.mean())
        assert s.std == pytest.approx(np.std(m.mean(axis=1), ddof=1))
    width = lambda s: s.ci[1] - s.ci[0]  # noqa: E731
    assert width(cell_stats(large)) < 0.5 * width(cell_stats(small))


def test_cell_interval_counts_seed_variation():
    """Same questions, seeds that disagree by a constant: the interval must widen beyond the
    question-only one (one seed, std None)."""
    rng = np.random.default_rng(2)
    base = binary(rng, 0.5, 1, 400)
    spread = np.vstack([np.clip(base + shift, 0, 100) for shift in (-20.0, 0.0, 20.0)])
    one, three = cell_stats(base), cell_stats(spread)
    assert one.std is None and one.n_seeds == 1
    assert three.ci[1] - three.ci[0] > one.ci[1] - one.ci[0]


def test_cell_stats_are_reproducible():
    m = binary(np.random.default_rng(3), 0.3, 2, 50)
    assert cell_stats(m) == cell_stats(m.copy())
    with pytest.raises(ValueError, match="no question"):
        cell_stats(np.zeros((2, 0)))


def test_paired_comparison_finds_a_real_gain_and_calls_none_noise():
    rng = np.random.default_rng(4)
    baseline = binary(rng, 0.3, 3, 300)
    better = np.maximum(baseline, binary(rng, 0.3, 3, 300))  # every question at least as good
    gain = paired_comparison(better, baseline)
    assert gain.diff > 10 and gain.ci[0] > 0 and gain.p_value < 0.001 and not gain.within_noise
    assert gain.p_welch is not None and gain.p_welch < ALPHA
    same = paired_comparison(baseline.copy(), baseline)
    assert same.diff == 0 and same.p_value == 1.0 and same.within_noise
    # a small difference on few questions is within noise
    noisy = paired_comparison(binary(rng, 0.32, 3, 40), binary(rng, 0.30, 3, 40))
    assert noisy.within_noise


def test_paired_p_value_matches_scipy_and_welch_matches_ttest():
    rng = np.random.default_rng(5)
    a, b = binary(rng, 0.45, 3, 120), binary(rng, 0.35, 2, 120)
    comp = paired_comparison(a, b)
    expected = scipy_stats.permutation_test(
        (a.mean(0), b.mean(0)),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        n_resamples=N_PERMUTATIONS,
        random_state=RNG_SEED,
    ).pvalue
    assert comp.p_value == pytest.approx(expected)
    assert comp.p_welch == pytest.approx(scipy_stats.ttest_ind(a.mean(1), b.mean(1), equal_var=False).pvalue)
    assert paired_comparison(a[:1], b).p_welch is None  # one seed: no Welch test
    with pytest.raises(ValueError, match="same questions"):
        paired_comparison(a, b[:, :10])


def test_question_scores_mean_is_the_set_score():
    task = get_task("qa")
    records = [
        {"id": "a", "answer": "the capital", "gold": ["the capital"]},
        {"id": "b", "answer": "capital city", "gold": ["the capital"]},
        {"id": "c", "answer": "", "gold": ["Berlin"]},
    ]
    scores = question_scores(records, task, "en", "f1")
    whole = task.score([r["answer"] for r in records], [r["gold"] for r in records], "en")["f1"]
    assert np.mean(list(scores.values())) == pytest.approx(whole)
    ids, matrix = score_matrix([scores, {"a": 1.0, "b": 2.0}])
    assert ids == ["a", "b"] and matrix.shape == (2, 2)


def test_read_predictions_names_the_bad_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "gold": 1}\n{oops\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"p.jsonl:2: not valid JSON"):
        read_predictions(path)


# ---------------------------------------------------------------- the report section
def _run(
    root: Path, name: str, method: str, seed: int, correct: list[bool], predictions: bool = True, per_passage: int = 0
) -> None:
    folder = root / name
    (folder / "predictions" / "fit-step10").mkdir(parents=True)
    records = [
        {"id": f"q{i}", "answer": "4" if ok else "5", "gold": "4", "correct": ok} for i, ok in enumerate(correct)
    ]
    for i, record in enumerate(records if per_passage else []):
        record["passage"] = f"passage{i // per_passage}"
    rel = "predictions/fit-step10/mgsm_de.jsonl"
    (folder / rel).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    entry = {"lang": "de", "n": len(correct), "accuracy": 100.0 * sum(correct) / len(correct)}
    if predictions:
        entry["predictions"] = rel
    result = {
        "format": 1, "stage": "fit", "method": method, "task": "math", "model": "m", "seed": seed, "step": 10,
        "metrics": {"mgsm_de": entry}, "primary_metric": "accuracy", "translation_quality": {},
        "settings": {"eval_sets": [f"mgsm_de:{len(correct)}"]},
    }  # fmt: skip
    (folder / "results.json").write_text(json.dumps(result), encoding="utf-8")


def test_report_has_intervals_and_paired_tests(tmp_path):
    rng = np.random.default_rng(6)
    logs = tmp_path / "logs"
    for seed in range(3):
        base = rng.random(200) < 0.2
        _run(logs, f"zs{seed}", "zero-shot", seed, [bool(x) for x in base])
        _run(logs, f"stt{seed}", "stt", seed, [bool(x) for x in base | (rng.random(200) < 0.3)])
    out = write_report(logs, tmp_path / "report")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Statistics" in md
    row = next(line for line in md.splitlines() if line.startswith("| math | de | stt |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:5] == ["3", "200"] and cells[-1] == "gain"
    data = json.loads((out / "statistics.json").read_text(encoding="utf-8"))
    comp = data["comparisons"]["math/de/stt"]
    assert comp["diff"] > 0 and comp["p_value"] < 0.01 and comp["within_noise"] is False
    assert data["cells"]["math/de/zero-shot"]["n_seeds"] == 3 and data["procedure"]["n_bootstrap"] == N_BOOTSTRAP
    assert "Cells with one seed" not in md and "count as independent" in md  # what the intervals leave out
    _run(logs, "fs", "fewshot", 0, [bool(x) for x in rng.random(200) < 0.1])
    md = (write_report(logs, tmp_path / "report2") / "report.md").read_text(encoding="utf-8")
    assert "Cells with one seed: their interval covers question sampling only" in md


def test_interval_endpoints_are_stable_across_rng_seeds(monkeypatch):
    """With N_BOOTSTRAP resamples an endpoint moves little when only the resampling seed changes
    (the Monte Carlo error the audit of the 2,000-resample version found at ~0.17 points)."""
    import selftt.report.statistics as statistics

    rng = np.random.default_rng(7)
    a, b = 100.0 * rng.random((1, 110)), 100.0 * rng.random((1, 110))  # F1-like: not on a 1/110 grid
    ends = []
    for seed in range(4):
        monkeypatch.setattr(statistics, "RNG_SEED", seed)
        ends.append(paired_comparison(a, b).ci)
    spread = np.ptp(np.array(ends), axis=0)
    assert (spread < 0.5).all(), ends


def test_report_names_runs_without_predictions(tmp_path):
    logs = tmp_path / "logs"
    _run(logs, "zs0", "zero-shot", 0, [True, False], predictions=False)
    out = write_report(logs, tmp_path / "report")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "No cell has saved per-question predictions." in md
    assert "results.json names no predictions file" in md


def test_by_passage_p_value_flips_whole_passages():
    """Differences that are all on a few passages: by question they look certain, by passage
    they do not; the by-passage p is scipy's sign-flip test on the passage sums."""
    per_passage = np.array([30.0, 25.0, -5.0, 20.0, 10.0])  # 5 passages x 20 questions, each question its passage's value
    passages = [f"p{i}" for i in range(5) for _ in range(20)]
    method = np.repeat(per_passage, 20)[None, :] + 50.0
    baseline = np.full((1, 100), 50.0)
    comp = paired_comparison(method, baseline, passages)
    assert comp.p_value < 0.001 and comp.n_passages == 5
    expected = scipy_stats.permutation_test(
        (per_passage * 20,), lambda x, axis: np.sum(x, axis=axis), permutation_type="samples",
        n_resamples=N_PERMUTATIONS, random_state=RNG_SEED,
    ).pvalue  # fmt: skip
    assert comp.p_passage == pytest.approx(expected) and comp.p_passage > ALPHA  # exact: 4 of 32 sign patterns as extreme
    assert comp.within_noise  # the conservative reading: either test failing to reject
    alone = paired_comparison(method, baseline, [str(i) for i in range(100)])  # one question per passage
    assert alone.p_passage == pytest.approx(alone.p_value, abs=0.01) and alone.n_passages == 100
    assert paired_comparison(method, baseline).p_passage is None
    with pytest.raises(ValueError, match="passages"):
        paired_comparison(method, baseline, passages[:10])


def test_report_shows_the_by_passage_test_where_predictions_record_passages(tmp_path):
    rng = np.random.default_rng(8)
    logs = tmp_path / "logs"
    base = rng.random(120) < 0.3
    _run(logs, "zs0", "zero-shot", 0, [bool(x) for x in base], per_passage=6)
    _run(logs, "stt0", "stt", 0, [bool(x) for x in base | (rng.random(120) < 0.3)], per_passage=6)
    out = write_report(logs, tmp_path / "report")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| p (by passage) |" in md
    comp = json.loads((out / "statistics.json").read_text(encoding="utf-8"))["comparisons"]["math/de/stt"]
    assert comp["n_passages"] == 20 and 0 <= comp["p_passage"] <= 1
    cell = json.loads((out / "statistics.json").read_text(encoding="utf-8"))["cells"]["math/de/stt"]
    assert cell["n_passages"] == 20 and len(cell["ci_passage"]) == 2  # an interval over the 20 passages
    assert "| 95% CI (by passage) |" in md and len(comp["ci_passage"]) == 2
    assert "resample questions one by one" not in md
    logs2 = tmp_path / "logs2"  # no passages recorded: no column
    _run(logs2, "zs0", "zero-shot", 0, [bool(x) for x in base])
    _run(logs2, "stt0", "stt", 0, [bool(x) for x in base])
    md2 = (write_report(logs2, tmp_path / "r2") / "report.md").read_text(encoding="utf-8")
    assert "by passage)" not in md2 and "resample questions one by one" in md2


def test_intervals_resample_whole_passages_where_known():
    """Questions of one passage that share their outcome: the by-passage interval is wider (fewer
    independent units) and the by-question one is unchanged; one question per passage gives the
    question bootstrap; a passage interval holding 0 makes a gain within noise."""
    rng = np.random.default_rng(9)
    per_passage = 100.0 * (rng.random((2, 25)) < 0.5)  # 25 passages x 8 questions, one outcome per passage
    scores = np.repeat(per_passage, 8, axis=1)
    passages = [f"p{i}" for i in range(25) for _ in range(8)]
    plain, both = cell_stats(scores), cell_stats(scores, passages)
    assert plain.ci_passage is None and plain.n_passages is None and both.n_passages == 25
    assert both.ci == plain.ci and both.mean == plain.mean
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(both.ci_passage) > 1.5 * width(both.ci)
    assert cell_stats(scores, [str(i) for i in range(200)]).ci_passage == pytest.approx(plain.ci)
    shift = 12.0 + 10.0 * np.repeat(rng.standard_normal((1, 25)), 8, axis=1)  # a gain shared within passages
    comp = paired_comparison(scores[:1] + shift, scores[:1], passages)
    assert comp.ci[0] > 0 and width(comp.ci_passage) > 1.5 * width(comp.ci)
    with pytest.raises(ValueError, match="passages"):
        cell_stats(scores, passages[:3])


def test_a_passage_interval_holding_zero_is_within_noise():
    from selftt.report.statistics import PairedComparison

    sure = PairedComparison(110, 5.0, (1.0, 9.0), 0.001, None, (2.0, 8.0), 0.002, 24)
    assert not sure.within_noise
    assert PairedComparison(110, 5.0, (1.0, 9.0), 0.001, None, (-0.5, 10.0), 0.002, 24).within_noise
    assert PairedComparison(110, 5.0, (1.0, 9.0), 0.001, None).within_noise is False


def test_passage_interval_matches_an_independent_cluster_bootstrap():
    """The procedure of the module docstring, written out with loops: per resample the seeds,
    then the passages (numbered by sorted digest), the mean over the drawn questions."""
    import selftt.report.statistics as statistics

    rng = np.random.default_rng(10)
    scores = 100.0 * rng.random((2, 30))
    passages = [f"d{(7 * i) % 9}" for i in range(30)]  # 9 passages of uneven order
    names = sorted(set(passages))
    draws = np.random.default_rng(RNG_SEED)
    means = []
    for start in range(0, N_BOOTSTRAP, statistics.CHUNK):
        b = min(statistics.CHUNK, N_BOOTSTRAP - start)
        seeds, units = draws.integers(2, size=(b, 2)), draws.integers(len(names), size=(b, len(names)))
        for s, u in zip(seeds, units, strict=True):
            columns = [q for n in u for q in range(30) if passages[q] == names[n]]
            means.append(scores[np.ix_(s, columns)].mean())
    expected = np.percentile(means, [2.5, 97.5])
    assert cell_stats(scores, passages).ci_passage == pytest.approx(tuple(expected))


def test_q_values_are_benjamini_hochberg_of_each_comparisons_larger_p():
    from selftt.report.statistics import PairedComparison, with_q_values

    comps = {
        "a": PairedComparison(100, 5.0, (1.0, 9.0), 0.001, None, (1.0, 9.0), 0.004, 20),
        "b": PairedComparison(100, 3.0, (0.5, 6.0), 0.02, None),
        "c": PairedComparison(100, 1.0, (-2.0, 4.0), 0.40, None, (-2.0, 4.0), 0.30, 20),
    }
    q = {k: c.q_value for k, c in with_q_values(comps).items()}
    expected = scipy_stats.false_discovery_control([0.004, 0.02, 0.40], method="bh")
    assert [q["a"], q["b"], q["c"]] == pytest.approx(list(expected))
    assert q["a"] == pytest.approx(0.012) and q["b"] == pytest.approx(0.03)  # 3/1 x 0.004, 3/2 x 0.02
    assert with_q_values({}) == {}
