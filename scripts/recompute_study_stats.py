"""Recompute the study report's statistics from the saved predictions, without selftt's code.

    python scripts/recompute_study_stats.py [--logs logs/study] [--report logs/study/report] [--metric f1]

(from the repository root; a few seconds on one core). Nothing is imported from ``selftt``. Runs: the
report's ``results.csv`` rows with ``used = yes``. Each answer is extracted again from the raw
``generation`` (first line; "Answer:" label, quotes, trailing period stripped; compared with the
recorded ``answer``) and scored by this file's own SQuAD/MLQA exact match and F1: lowercase, Unicode
P* and ASCII punctuation removed (ASCII only for English), MLQA's articles (en de es vi), whitespace
tokens except zh/ja (each Han, for ja also kana, character a token, other runs whole) and th/lo/km/
my/bo (each non-space character a token). Math: the generation's last number against the gold (a
simplification of selftt's final-answer rule). From these: set scores (vs results.json and .csv); per
cell mean, seed std (ddof=1), two-level bootstrap intervals (seeds, then questions or whole passages);
per method vs the baseline on the questions both answered (per question each side's mean over its
seeds): difference, its intervals, sign-flip randomization p by question and by passage, Welch's t
over seed means, Benjamini-Hochberg q of each comparison's larger p; own formulas, own random stream.

Tolerances (Z = 5 standard errors: a false alarm has probability ~6e-7 per check):
- exact quantities (set scores, mean, std, differences, Welch p, q from the report's own p's): 1e-6.
- randomization p = 2*min(tail) has variance ~p(2-p)/n (a doubled tail, not p(1-p)/n), so
  |mine - report| <= Z*sqrt(p(2-p)*(1/n_report + 1/n_mine)) + 2/n, p the larger (at least 1/n).
- a bootstrap endpoint at level a from B resamples has standard error sqrt(a(1-a)/B) in level: the
  report's must lie between my resamples' quantiles at a -/+ Z*sqrt(a(1-a)*(1/B_report + 1/B_mine)),
  a distribution-free band (about +-0.5 to 1 F1 point here; on discrete math scores the next values).
- q (BH): mine within BH of the report's larger p's each moved by its tolerance (BH is monotone).
Readings (within noise: an interval holds 0 or a p >= alpha; q < alpha) must agree unless a deciding
quantity is within its tolerance of the threshold (borderline: listed, not counted). Also checked: the
report's within_noise and q against its own numbers; report.md's Statistics table against mine. A
finished run missing from the report is printed as a lag, not counted. Exit 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import string
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy import stats as sps

SEED, Z, EXACT, CHUNK = 20240700, 5.0, 1e-6, 10_000
ARTICLES = {
    "en": r"\b(a|an|the)\b",
    "de": r"\b(der|die|das|des|dem|den|ein|eine|einer|eines|einem|einen)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
}
HAN = "\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
KANA = "\u3040-\u309f\u30a0-\u30ff"
UNSPACED = {"th", "lo", "km", "my", "bo"}
LABEL = re.compile(r"^(?:answer|antwort|ответ|คำตอบ|答案|回答)\s*[:：]\s*", re.IGNORECASE)
QUOTES = "\"'`“”„‟«»‹›「」『』‘’‚"
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
MD_FIELDS = ("seeds", "questions", "mean", "std", "diff", "reading")  # checked in report.md's Statistics
Band = tuple[float, float]
Cell = tuple[list[str], np.ndarray, "dict[str, str] | None"]  # question ids, seeds x questions, passages


def extract_answer(generation: str) -> str:
    lines = LABEL.sub("", generation.strip()).splitlines()
    text, before = (lines[0] if lines else ""), None
    while text != before:
        before, text = text, text.strip().strip(QUOTES).rstrip(".。")
    return text


def is_punctuation(c: str, base: str) -> bool:  # English as SQuAD v1.1: ASCII punctuation only
    return c in string.punctuation or (base != "en" and unicodedata.category(c).startswith("P"))


def tokens(text: str, lang: str) -> list[str]:
    base = lang.split("-")[0].lower()
    kept = "".join(c for c in text.lower() if not is_punctuation(c, base))
    text = " ".join(re.sub(ARTICLES.get(base, r"(?!)"), " ", kept).split())
    if base in UNSPACED:
        return [c for c in text if not c.isspace()]
    if base not in ("zh", "ja"):
        return text.split()
    letters = f"([{HAN}{KANA if base == 'ja' else ''}])"
    return [t for piece in text.split() for t in re.split(letters, piece) if t]


def qa_score(answer: str, golds: str | list[str], lang: str, metric: str) -> float:
    pred, best = tokens(answer, lang), 0.0
    for ref in (tokens(g, lang) for g in ([golds] if isinstance(golds, str) else golds)):
        same = sum((Counter(pred) & Counter(ref)).values())
        f1 = 2 * same / (len(pred) + len(ref)) if same else 0.0  # = 2PR/(P+R)
        best = max(best, float(pred == ref) if metric == "exact_match" else f1)
    return 100.0 * best


def math_score(generation: str, gold: str) -> float:
    found = [float(x.replace(",", "")) for x in NUMBER.findall(generation)]
    return 100.0 * bool(found and math.isclose(found[-1], float(gold.replace(",", ""))))


def quantile_band(values: np.ndarray, level: float, n_report: int) -> tuple[float, Band]:
    """My percentile at ``level`` and the band the report's must lie in (module docstring)."""
    d = Z * math.sqrt(level * (1 - level) * (1 / n_report + 1 / len(values)))
    lo, mid, hi = np.quantile(values, [max(level - d, 0.0), level, min(level + d, 1.0)])
    return float(mid), (float(lo), float(hi))


def bootstrap(sides: list[tuple[float, np.ndarray]], units: np.ndarray, n: int, rng) -> np.ndarray:
    """n resamples of sum(sign * mean): unit multiplicities shared by the sides, then each side's seed
    multiplicities; a side's value is its weighted mean over the drawn questions."""
    n_units = int(units.max()) + 1
    counts, out = np.bincount(units, minlength=n_units).astype(float), np.zeros(n)
    unit_sums = [np.stack([np.bincount(units, weights=r, minlength=n_units) for r in s]) for _, s in sides]
    for start in range(0, n, CHUNK):
        b = min(CHUNK, n - start)
        m = rng.multinomial(n_units, np.full(n_units, 1 / n_units), size=b).astype(float)
        for (sign, _), sums in zip(sides, unit_sums, strict=True):
            k = len(sums)
            w = rng.multinomial(k, np.full(k, 1 / k), size=b).astype(float)
            out[start : start + b] += sign * np.einsum("bs,su,bu->b", w, sums, m) / (k * (m @ counts))
    return out


def sign_flip_p(values: np.ndarray, n: int, rng) -> float:
    """Two-sided Monte Carlo p of sum(values) under random sign flips: 2 * min tail, (k+1)/(n+1)."""
    if not np.any(values):
        return 1.0
    observed, slack, above, below = values.sum(), 1e-9 * np.abs(values).sum(), 0, 0
    for start in range(0, n, CHUNK):
        null = (rng.integers(0, 2, size=(min(CHUNK, n - start), len(values))) * 2 - 1) @ values
        above += int(np.sum(null >= observed - slack))
        below += int(np.sum(null <= observed + slack))
    return min(1.0, 2 * (min(above, below) + 1) / (n + 1))


def welch_p(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or len(b) < 2 or a.var() + b.var() == 0:
        return None
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(2 * sps.t.sf(abs(a.mean() - b.mean()) / math.sqrt(va + vb), df))


def bh(ps: list[float]) -> list[float]:
    out, running = [0.0] * len(ps), 1.0
    for rank, i in reversed(list(enumerate(sorted(range(len(ps)), key=lambda i: ps[i]), 1))):
        running = out[i] = min(running, ps[i] * len(ps) / rank)
    return out


def p_tol(mine: float, theirs: float, n: int) -> float:
    p = min(1.0, max(mine, theirs, 1 / n))
    return Z * math.sqrt(p * (2 - p) * 2 / n) + 2 / n


def within(intervals: list, ps: list[float], alpha: float) -> bool:
    return any(lo <= 0 <= hi for lo, hi in intervals) or max(ps) >= alpha


class Checks:
    def __init__(self) -> None:
        self.groups: dict[str, list] = defaultdict(lambda: [0, [], []])  # checked, disagree, borderline

    def check(self, group: str, where: str, ok: bool, why: str = "", borderline: bool = False) -> None:
        self.groups[group][0] += 1
        if not ok or borderline:
            self.groups[group][1 if not ok else 2].append(f"{where}: {why}")

    def close(self, group: str, where: str, what: str, mine: float | None, theirs: float | None) -> None:
        same = (mine is None) == (theirs is None) and (mine is None or abs(mine - theirs) <= EXACT)
        self.check(group, where, same, f"{what} mine {mine} vs report {theirs}")


def load_runs(logs: Path, report: Path, metric: str, checks: Checks) -> dict[str, list]:
    """Per cell ``task/lang/method``: [({id: score}, {id: passage} | None) per seed] of the report's used
    rows, checking extraction and set scores; prints finished runs the report lacks, unfinished ones."""
    rows = list(csv.DictReader((report / "results.csv").open(encoding="utf-8")))
    found = {f.parent.resolve(): f.parent for f in logs.rglob("results.json")}
    cells: dict[str, list] = defaultdict(list)
    listed = set()
    for row in (r for r in rows if r["used"] == "yes"):
        where, run = f"{row['file']} {row['eval_set']}", locate(Path(row["file"]).parent, found)
        checks.check("coverage", where, run is not None, f"this run of the report is not under {logs}")
        if run is None:
            continue
        listed.add(run.resolve())
        if row["task"] == "qa" and row["primary_metric"] != metric:
            sys.exit(f"{report} was made with --metric {row['primary_metric']}, not {metric}")
        entry = json.loads((run / "results.json").read_text(encoding="utf-8"))["metrics"][row["eval_set"]]
        lines = (run / entry["predictions"]).read_text(encoding="utf-8").splitlines()
        scores, passages = {}, {}
        for r in (json.loads(line) for line in lines if line.strip()):
            key, gen = str(r["id"]), r.get("generation") or ""
            if row["task"] == "qa":
                answer = extract_answer(gen)
                why = f"mine {answer!r} vs recorded {r.get('answer')!r}"
                checks.check("answer extraction", f"{where} {key}", answer == (r.get("answer") or ""), why)
                scores[key] = qa_score(answer, r["gold"], row["lang"], metric)
            else:
                scores[key] = math_score(gen, str(r["gold"]))
            passages[key] = r.get("passage")
        mean = float(np.mean(list(scores.values())))
        checks.check("set scores", where, len(scores) == int(entry["n"]), f"{len(scores)} vs n {entry['n']}")
        checks.close("set scores", where, "results.json", mean, float(entry[row["primary_metric"]]))
        checks.close("set scores", where, "results.csv", mean, float(row["value"]))
        known = passages if all(isinstance(p, str) for p in passages.values()) else None
        cells[f"{row['task']}/{row['lang']}/{row['method']}"].append((scores, known))
    wanted = {t: {r["primary_metric"] for r in rows if r["task"] == t} for t in {r["task"] for r in rows}}
    for version in sorted(logs.glob("*/version_*")):
        if not (version / "results.json").is_file():
            print(f"skipped: {version} has no results.json (unfinished)")
        elif version.resolve() not in listed:
            res = json.loads((version / "results.json").read_text(encoding="utf-8"))
            names = wanted.get(res.get("task"), {metric})
            if any(k in names for m in res.get("metrics", {}).values() for k in m):
                print(f"lag: {version} is finished but not in the report (not counted as a disagreement)")
            else:
                print(f"not in the report: {version} has no {'/'.join(sorted(names))} (not a lag)")
    return cells


def locate(recorded: Path, found: dict[Path, Path]) -> Path | None:
    """The run folder under --logs that the report's ``file`` column names: the same folder, or else the one
    folder whose path ends with the same parts (at least ``<run>/version_N``), e.g. after the report was
    made from another working directory; None when there is no such folder or more than one."""
    if recorded.resolve() in found:
        return found[recorded.resolve()]
    for n in range(len(recorded.parts), 1, -1):
        hits = [run for run in found.values() if run.parts[-n:] == recorded.parts[-n:]]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return None
    return None


def matrix(seeds: list) -> Cell:
    ids = sorted(set.intersection(*(set(s[0]) for s in seeds)))
    passages = None if any(s[1] is None for s in seeds) else {i: seeds[0][1][i] for i in ids}
    return ids, np.array([[s[0][i] for i in ids] for s in seeds]), passages


def units_of(ids: list[str], passages: dict[str, str] | None) -> np.ndarray:
    keys = ids if passages is None else [passages[i] for i in ids]
    return np.unique(np.array(keys, dtype=str), return_inverse=True)[1].ravel()


class Recompute:
    def __init__(self, stats: dict, checks: Checks) -> None:
        proc, self.stats, self.ck = stats["procedure"], stats, checks
        self.n_boot, self.n_perm, self.alpha = proc["n_bootstrap"], proc["n_permutations"], proc["alpha"]
        self.tail, self.rng = (1 - proc["confidence"]) / 2, np.random.default_rng(SEED)

    def interval(self, group: str, where: str, sides: list, units: np.ndarray, theirs: list) -> tuple:
        """(my interval, its endpoints' bands), checking the report's endpoints against the bands."""
        values, levels = bootstrap(sides, units, self.n_boot, self.rng), (self.tail, 1 - self.tail)
        (lo, band_lo), (hi, band_hi) = (quantile_band(values, x, self.n_boot) for x in levels)
        for end, t, mine, (a, b) in (("low", theirs[0], lo, band_lo), ("high", theirs[1], hi, band_hi)):
            why = f"report {t:.3f} not in [{a:.3f}, {b:.3f}] (mine {mine:.3f})"
            self.ck.check(group, f"{where} {end} end", a - 1e-9 <= t <= b + 1e-9, why)
        return (lo, hi), [band_lo, band_hi]

    def cell(self, name: str, ids: list[str], m: np.ndarray, passages: dict | None) -> None:
        rep, seed_means, ck = self.stats["cells"][name], m.mean(axis=1), self.ck
        ck.check("cell mean/std", name, m.shape == (rep["n_seeds"], rep["n_questions"]), f"shape {m.shape}")
        ck.close("cell mean/std", name, "mean", float(seed_means.mean()), rep["mean"])
        std = float(seed_means.std(ddof=1)) if len(m) > 1 else None
        ck.close("cell mean/std", name, "std", std, rep["std"])
        self.interval("cell intervals", f"{name} by question", [(1.0, m)], units_of(ids, None), rep["ci"])
        one_side = (passages is None) != (rep["ci_passage"] is None)
        ck.check("cell intervals", name, not one_side, "passages known on one side only")
        if passages is not None and rep["ci_passage"] is not None:
            units = units_of(ids, passages)
            ck.check("cell intervals", name, units.max() + 1 == rep["n_passages"], "number of passages")
            self.interval("cell intervals", f"{name} by passage", [(1.0, m)], units, rep["ci_passage"])

    def comparison(self, name: str, cell: Cell, base: Cell) -> dict:
        (ids, m, passages), (bids, bm, bpass), ck = cell, base, self.ck
        rep, alpha, group = self.stats["comparisons"][name], self.alpha, "difference intervals"
        common = sorted(set(ids) & set(bids))
        a, z = m[:, [ids.index(i) for i in common]], bm[:, [bids.index(i) for i in common]]
        d, sides = a.mean(axis=0) - z.mean(axis=0), [(1.0, a), (-1.0, z)]
        ck.check("differences", name, len(common) == rep["n_questions"], f"{len(common)} questions in common")
        ck.close("differences", name, "diff", float(d.mean()), rep["diff"])
        ck.close("Welch p", name, "p_welch", welch_p(a.mean(axis=1), z.mean(axis=1)), rep["p_welch"])
        ci, bands = self.interval(group, f"{name} by question", sides, units_of(common, None), rep["ci"])
        cis, ps = [ci], [(sign_flip_p(d, self.n_perm, self.rng), rep["p_value"], "by question")]
        by_passage = passages is not None and bpass is not None
        by_passage = by_passage and all(passages[i] == bpass[i] for i in common)
        ck.check("differences", name, by_passage == (rep["ci_passage"] is not None), "passages on one side")
        if by_passage and rep["ci_passage"] is not None:
            units = units_of(common, passages)
            ck.check(group, name, units.max() + 1 == rep["n_passages"], "number of passages")
            ci, more = self.interval(group, f"{name} by passage", sides, units, rep["ci_passage"])
            cis, bands = cis + [ci], bands + more
            p = sign_flip_p(np.bincount(units, weights=d), self.n_perm, self.rng)
            ps.append((p, rep["p_passage"], "by passage"))
        tols = [p_tol(mp, rp, self.n_perm) for mp, rp, _ in ps]
        for (mp, rp, what), tol in zip(ps, tols, strict=True):
            why = f"mine {mp:.5f} vs report {rp:.5f} (tol {tol:.5f})"
            ck.check("randomization p", f"{name} {what}", abs(mp - rp) <= tol, why)
        mine = within(cis, [p[0] for p in ps], alpha)
        reported = within([rep["ci"], rep["ci_passage"]][: len(ps)], [p[1] for p in ps], alpha)
        near_p = any(abs(p[1] - alpha) <= t for p, t in zip(ps, tols, strict=True))
        fragile = near_p or any(lo <= 0 <= hi for lo, hi in bands)
        ck.check("readings", f"{name} (report)", reported == rep["within_noise"], "within_noise vs its own")
        agree = mine == rep["within_noise"]
        why = f"within noise: mine {mine}, report {rep['within_noise']}"
        ck.check("readings", name, agree or fragile, why, borderline=not agree)
        big = max(range(len(ps)), key=lambda i: ps[i][1])
        return {"diff": float(d.mean()), "within": mine, "fragile": fragile, "p": ps[big][0],
                "rep_p": ps[big][1], "tol": tols[big], "q": rep.get("q_value")}  # fmt: skip

    def q_values(self, found: dict[str, dict]) -> None:
        keys, alpha, ck = list(found), self.alpha, self.ck
        mine_q = bh([found[k]["p"] for k in keys])
        rep_q = bh([found[k]["rep_p"] for k in keys])
        low = bh([max(found[k]["rep_p"] - found[k]["tol"], 0.0) for k in keys])
        high = bh([min(found[k]["rep_p"] + found[k]["tol"], 1.0) for k in keys])
        for k, mq, rq, lo, hi in zip(keys, mine_q, rep_q, low, high, strict=True):
            theirs = found[k]["q"]
            ck.close("q (BH)", k, "q from the report's own p's", rq, theirs)
            ck.check("q (BH)", k, lo - 1e-9 <= mq <= hi + 1e-9, f"mine {mq:.5f} not in [{lo:.5f}, {hi:.5f}]")
            agree = (mq < alpha) == (theirs is not None and theirs < alpha)
            why = f"q mine {mq:.4f}, report {theirs}"
            ck.check("readings", f"{k} q < {alpha}", agree or lo <= alpha <= hi, why, borderline=not agree)


def check_markdown(path: Path, cells: dict[str, Cell], found: dict[str, dict], checks: Checks) -> None:
    """report.md's Statistics table: seeds, questions, mean, std and difference (1 decimal), reading."""
    section = path.read_text(encoding="utf-8").split("## Statistics", 1)[-1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        name = "/".join(cols[:3])
        if len(cols) != 17 or cols[0] in ("Task", "---"):
            continue
        if name not in cells:
            checks.check("report.md table", name, False, "a row for a cell I do not have")
            continue
        (ids, m, _), c = cells[name], found.get(name)
        seed_means, diff = m.mean(axis=1), None if c is None else c["diff"]
        reading = "—" if c is None else "within noise" if c["within"] else "gain" if diff > 0 else "loss"
        std = float(seed_means.std(ddof=1)) if len(m) > 1 else None
        want = [str(len(m)), str(len(ids)), float(seed_means.mean()), std, diff, reading]
        got = [*cols[3:7], cols[9], cols[16]]
        for what, g, w in zip(MD_FIELDS, got, want, strict=True):
            if isinstance(w, float):
                ok = g not in ("—", "") and abs(float(g) - w) <= 0.05 + 1e-9
            else:  # a reading may differ where it is borderline
                ok = g == ("—" if w is None else w) or (what == "reading" and bool(c and c["fragile"]))
            checks.check("report.md table", f"{name} {what}", ok, f"report.md {g!r} vs mine {w!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--logs", type=Path, default=Path("logs/study"))
    ap.add_argument("--report", type=Path, default=Path("logs/study/report"))
    ap.add_argument("--metric", default="f1", choices=["f1", "exact_match"])
    args = ap.parse_args()
    started, checks = time.time(), Checks()
    for path in (args.report / "statistics.json", args.report / "results.csv", args.report / "report.md"):
        if not path.is_file():
            sys.exit(f"recompute_study_stats: {path} not found (--report names the folder `selftt report` wrote)")
    if not args.logs.is_dir():
        sys.exit(f"recompute_study_stats: --logs {args.logs} is not a folder (the runs the report read)")
    stats = json.loads((args.report / "statistics.json").read_text(encoding="utf-8"))
    runs = load_runs(args.logs, args.report, args.metric, checks)
    cells, base = {name: matrix(seeds) for name, seeds in runs.items()}, stats["procedure"]["baseline"]
    rc, only_one = Recompute(stats, checks), sorted(set(cells) ^ set(stats["cells"]))
    checks.check("coverage", "cells", not only_one, f"in only one of mine and the report's: {only_one}")
    for problem in stats.get("problems", []):
        checks.check("coverage", "statistics.json problems", False, problem)
    for name in sorted(set(cells) & set(stats["cells"])):
        rc.cell(name, *cells[name])
    found = {}
    for name, cell in cells.items():
        task, lang, method = name.split("/")
        if method != base and f"{task}/{lang}/{base}" in cells:
            checks.check("coverage", name, name in stats["comparisons"], "no comparison in statistics.json")
            if name in stats["comparisons"]:
                found[name] = rc.comparison(name, cell, cells[f"{task}/{lang}/{base}"])
    checks.check("coverage", "comparisons", set(found) == set(stats["comparisons"]), "comparisons differ")
    rc.q_values(found)
    check_markdown(args.report / "report.md", cells, found, checks)
    for group, (n, bad, borderline) in checks.groups.items():
        more = f", {len(borderline)} borderline" if borderline else ""
        print(f"{group}: {n} checked, {len(bad)} disagree{more}")
        for line in bad + [f"(borderline, not counted) {x}" for x in borderline]:
            print(f"  - {line}")
    failed = sum(len(bad) for _, bad, _ in checks.groups.values())
    if not cells:
        print("no run of the report could be checked")
        failed = max(failed, 1)
    print(f"{'DISAGREE' if failed else 'AGREE'}: {failed} beyond tolerance; {time.time() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
