"""The README's study tables, from the report's ``statistics.json`` (``python -m selftt report``).

    python scripts/study_tables.py                      # logs/study/report/statistics.json
    python scripts/study_tables.py --stats logs/study-gpu/report/statistics.json

Prints two Markdown tables of the report's metric (F1 for XQuAD unless ``--metric`` chose
another): per method and language the mean with its 95% bootstrap intervals by question / by
passage (and the standard deviation over seeds where there are several), and per method the
paired difference against the baseline with its intervals and randomization p-values, each by
question / by passage, Welch's p over seed means where both sides have 2+ seeds, and the
Benjamini-Hochberg q over the report's comparisons. The by-passage
figures appear where the predictions recorded passages. Cells without a run print as a dash.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from selftt.report.statistics_section import DASH, format_p

METHODS = {
    "fewshot": "FewShot (2 shots, untrained)",
    "zero-shot": "Zero-shot transfer (`src`)",
    "stt": "Self-Translate-Train (`src+tgt`)",
    "stt+cs": "+ code-switched (`src+tgt+cs`)",
    "translate-train-human": "translate-train-human (upper bound)",
}


def _intervals(record: dict) -> str:
    """``[low, high]`` by question, `` / [low, high]`` by passage where computed."""
    text = f"[{record['ci'][0]:.1f}, {record['ci'][1]:.1f}]"
    by_passage = record.get("ci_passage")
    return text if by_passage is None else f"{text} / [{by_passage[0]:.1f}, {by_passage[1]:.1f}]"


def cell_text(cell: dict | None) -> str:
    """``mean [low, high] / [low, high]``, with ``± std (n seeds)`` where there are several seeds."""
    if cell is None:
        return DASH
    text = f"{cell['mean']:.1f} {_intervals(cell)}"
    return text if cell["std"] is None else f"{text} ± {cell['std']:.1f} ({cell['n_seeds']} seeds)"


def comparison_text(comp: dict | None) -> str:
    """``diff [low, high] / [low, high] p=.. / ..`` (by question / by passage), with Welch's p
    and the q-value where computed."""
    if comp is None:
        return DASH
    text = f"{comp['diff']:+.1f} {_intervals(comp)} p={format_p(comp['p_value'])}"
    if comp.get("p_passage") is not None:
        text += f" / {format_p(comp['p_passage'])}"
    if comp.get("p_welch") is not None:
        text += f", Welch {format_p(comp['p_welch'])}"
    if comp.get("q_value") is not None:
        text += f", q {format_p(comp['q_value'])}"
    return text


def tables(stats: dict, task: str, langs: list[str]) -> str:
    """The two tables as Markdown."""
    baseline = stats["procedure"]["baseline"]
    head = "| Method | " + " | ".join(langs) + " |\n|:---|" + "---:|" * len(langs) + "\n"
    first = head + "".join(
        f"| {name} | " + " | ".join(cell_text(stats["cells"].get(f"{task}/{lang}/{method}")) for lang in langs) + " |\n"
        for method, name in METHODS.items()
    )
    second = head + "".join(
        f"| {name} | "
        + " | ".join(comparison_text(stats["comparisons"].get(f"{task}/{lang}/{method}")) for lang in langs)
        + " |\n"
        for method, name in METHODS.items()
        if method not in (baseline, "fewshot")
    )
    return first + "\n" + second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stats", default="logs/study/report/statistics.json")
    parser.add_argument("--task", default="qa")
    parser.add_argument("--langs", nargs="+", default=["de", "ru", "th", "zh"])
    args = parser.parse_args(argv)
    path = Path(args.stats)
    if not path.is_file():
        print(f"{path}: not found; run python -m selftt report --logs <the study's logs> first", file=sys.stderr)
        return 2
    print(tables(json.loads(path.read_text(encoding="utf-8")), args.task, args.langs), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
