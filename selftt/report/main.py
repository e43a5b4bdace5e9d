"""``python -m selftt report``: write report.md, results.csv, results.png and quality_vs_gain.png."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from selftt.errors import SelfTTError
from selftt.report import statistics_section
from selftt.report.collect import NoResultsError, collect
from selftt.report.explain import explain_section
from selftt.report.plots import plot_quality_vs_gain, plot_results
from selftt.report.table import render_markdown


class ReportOptionError(SelfTTError):
    """An option of ``selftt report`` that names nothing in the runs."""


NOT_METRICS = ("", "n", "lang", "predictions")
"""Keys of an evaluation set's results that are not metrics."""
OUTPUTS = ("report.md", "statistics.json", "results.csv", "results.png", "quality_vs_gain.png")
CSV_FIELDS = [
    "file", "run_dir", "stage", "task", "method", "model", "seed", "step",
    "eval_set", "lang", "n", "primary_metric", "value", "used",
]  # fmt: skip


def write_csv(coll, path: Path) -> Path:
    """One row per run and eval set: the raw numbers, every metric of the set, and whether (or why
    not) the row is in the tables."""
    extra = sorted({k for r in coll.runs for s in r.scores for k in s.metrics})
    used = {(id(e.run), e.score.eval_set) for c in coll.cells.values() for e in c.entries}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS + extra + ["settings"])
        writer.writeheader()
        for r in coll.runs:
            for s in r.scores:
                row = {
                    "file": str(r.path),
                    "run_dir": r.run_dir,
                    "stage": r.stage or "",
                    "task": r.task,
                    "method": r.method,
                    "model": r.model or "",
                    "seed": "" if r.seed is None else r.seed,
                    "step": "" if r.step is None else r.step,
                    "eval_set": s.eval_set,
                    "lang": s.lang,
                    "n": "" if s.n is None else s.n,
                    "primary_metric": r.primary_metric,
                    "value": s.value,
                    "used": "yes"
                    if (id(r), s.eval_set) in used
                    else coll.unused.get((r.path, s.eval_set), "no"),
                    "settings": json.dumps(r.settings, sort_keys=True),
                }
                writer.writerow(row | {k: s.metrics.get(k, "") for k in extra})
    return path


SHIPPED = ("logs/study", "logs/mgsm-check")
"""The runs committed with selftt (``scripts/run_study.py``, ``scripts/mgsm_check.sh``): a plain
``report`` (no ``--logs``) leaves them out, so that a user's own runs are not mixed with them."""


def write_report(
    logs: str | Path = "logs",
    out: str | Path | None = None,
    stage: str | None = None,
    baseline: str = "zero-shot",
    metric: str | None = None,
    check_baseline: bool = False,
    skip: Sequence[str | Path] = (),
) -> Path:
    """Collect every ``results.json`` under ``logs`` and write the report files into ``out``
    (default ``<logs>/report``); return ``out``. ``metric`` (e.g. ``exact_match``) replaces each
    run's primary metric in every table and statistic. Raises ``NoResultsError`` if there is no
    results.json (of ``stage``; with ``metric``: none that has it), ``ReportOptionError`` for a
    ``metric`` that is a set's count or name, and with ``check_baseline`` for a ``baseline``
    no run has. Folders in ``skip`` are left out (with a note)."""
    if metric is not None and metric in NOT_METRICS:
        raise ReportOptionError(
            f"--metric must name a metric of the runs (e.g. f1, exact_match, accuracy), got {metric!r}"
        )
    coll = collect(logs, stage=stage, metric=metric, skip=skip)
    if check_baseline and baseline not in coll.methods:
        methods = ", ".join(coll.methods)
        raise ReportOptionError(f"--baseline {baseline!r}: no run has this method; the methods: {methods}")
    out = Path(out) if out is not None else Path(logs) / "report"
    out.mkdir(parents=True, exist_ok=True)
    stats = statistics_section.compute(coll, baseline)
    stats_lines = statistics_section.render(stats, coll, baseline) + explain_section(coll, baseline, stats)
    (out / "report.md").write_text(render_markdown(coll, baseline, stats_lines), encoding="utf-8")
    (out / "statistics.json").write_text(json.dumps(stats.as_json(baseline), indent=1) + "\n", encoding="utf-8")
    write_csv(coll, out / "results.csv")
    plot_results(coll, out / "results.png")
    plot_quality_vs_gain(coll, out / "quality_vs_gain.png", baseline=baseline)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selftt report",
        description="Tables and figures from the results.json of finished runs.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--logs",
        default=None,
        help=f"root searched for **/results.json (default: logs, without the runs shipped with selftt, "
        f"{' and '.join(SHIPPED)}: report one with --logs {SHIPPED[0]})",
    )
    parser.add_argument("--out", default=None, help="output directory (default: <logs>/report)")
    parser.add_argument("--stage", choices=("fit", "validate", "test"), default=None, help="only this stage")
    parser.add_argument(
        "--baseline",
        default=None,
        help="method the gains are relative to (default: zero-shot); one of the runs' methods, e.g. "
        "fewshot, zero-shot, stt, stt+cs, translate-train-human",
    )
    parser.add_argument(
        "--metric",
        default=None,
        help="metric of every table and statistic, e.g. exact_match for QA (default: each run's primary_metric)",
    )
    return parser


def report_main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        out = write_report(
            args.logs or "logs",
            args.out,
            stage=args.stage,
            baseline=args.baseline or "zero-shot",
            metric=args.metric,
            check_baseline=args.baseline is not None,
            skip=[s for s in SHIPPED if Path(s).is_dir()] if args.logs is None else [],
        )
    except (NoResultsError, ReportOptionError) as err:
        print(f"selftt report: {err}", file=sys.stderr)
        return 2
    problems = json.loads((out / "statistics.json").read_text(encoding="utf-8"))["problems"]
    if problems:
        print(
            f"selftt report: {len(problems)} cell(s) without full statistics, e.g. {problems[0]} "
            f"(all in {out / 'report.md'}, 'Cells without statistics')",
            file=sys.stderr,
        )
    print(f"selftt report: wrote to {out}")
    for name in OUTPUTS:
        print(f"  {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(report_main())
