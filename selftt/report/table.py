"""Render a :class:`~selftt.report.collect.Collection` as Markdown in the paper's layout.

One table per task: rows are methods, columns are languages (de, ru, th, zh, others, then
``avg`` over the target languages, then the English held-out set ``en``); each cell is
"mean ± std (k seeds)" of the task's primary metric, std with ddof=1. Below each table, the gain
of every method over the baseline (difference of means). Then the Missing cells, the translation
quality of the self-translations, the notes (mismatched cells, re-runs, models) and skipped files.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from selftt.report.collect import Cell, Collection, Column, fmt_seeds, order_langs, task_rank
from selftt.report.self_translation import self_translation_section

METHOD_NAMES = {
    "fewshot": "FewShot",
    "zero-shot": "Zero-shot transfer",
    "stt": "Self-Translate-Train",
    "stt+cs": "Self-Translate-Train + code-switch",
    "translate-train": "Translate-Train (external MT)",
    "translate-train-human": "Translate-Train (human translation, upper bound)",
}
METRIC_NAMES = {"accuracy": "accuracy", "f1": "F1", "exact_match": "exact match"}
DASH = "—"
DAGGER = "†"


def method_name(method: str) -> str:
    return METHOD_NAMES.get(method, method)


def metric_label(metric: str) -> str:
    """Axis/heading label of a metric; every selftt metric is a percentage."""
    return f"{METRIC_NAMES.get(metric, metric)} (%)"


def fmt_gain(gain: float | None) -> str:
    return DASH if gain is None else f"{round(gain, 1) + 0.0:+.1f}"


def fmt_cell(cell: Cell | None) -> str:
    if cell is None:
        return DASH
    k = len(cell.values)
    text = f"{cell.mean:.1f} ± {cell.std:.1f} ({k} seeds)" if k > 1 else f"{cell.mean:.1f} (1 seed)"
    return text + (f" {DAGGER}" if cell.mismatch else "")


def target_columns(coll: Collection, task: str) -> list[Column]:
    """The target-language (non-English) columns of a task that hold at least one result."""
    return [c for c in coll.columns[task] if c.is_target and any(coll.cell(task, m, c) for m in coll.methods)]


def _coverage(k: int, total: int) -> str:
    return f" ({k}/{total})" if k < total else ""


def row_average(coll: Collection, task: str, method: str) -> str:
    """Mean of the row's cell means over the target languages the row has; "(k/K)" if it lacks some."""
    cols = target_columns(coll, task)
    cells = [c for c in (coll.cell(task, method, col) for col in cols) if c is not None]
    if not cells:
        return DASH
    dagger = f" {DAGGER}" if any(c.mismatch for c in cells) else ""
    return f"{statistics.fmean(c.mean for c in cells):.1f}{_coverage(len(cells), len(cols))}{dagger}"


def gain_average(coll: Collection, task: str, method: str, baseline: str) -> str:
    """Mean of the per-language gains over the target languages where both rows have a result."""
    cols = target_columns(coll, task)
    pairs = [(coll.cell(task, method, c), coll.cell(task, baseline, c)) for c in cols]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not pairs:
        return DASH
    dagger = f" {DAGGER}" if any(a.mismatch or b.mismatch for a, b in pairs) else ""
    gain = statistics.fmean(a.mean - b.mean for a, b in pairs)
    return f"{fmt_gain(gain)}{_coverage(len(pairs), len(cols))}{dagger}"


def _layout(coll: Collection, task: str) -> tuple[list[Column], list[Column]]:
    cols = coll.columns[task]
    return [c for c in cols if c.is_target], [c for c in cols if not c.is_target]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def task_section(coll: Collection, task: str, baseline: str) -> list[str]:
    targets, sources = _layout(coll, task)
    header = ["Method"] + [c.label for c in targets] + ["avg"] + [c.label for c in sources]
    rows = []
    for m in coll.methods:
        cells = [fmt_cell(coll.cell(task, m, c)) for c in targets]
        rows.append([method_name(m), *cells, row_average(coll, task, m)])
        rows[-1] += [fmt_cell(coll.cell(task, m, c)) for c in sources]
    out = [f"## {task} — {metric_label(coll.metric(task))}", "", *_md_table(header, rows), ""]
    base_name = method_name(baseline)
    if not any(coll.cell(task, baseline, c) for c in coll.columns[task]):
        return out + [f"No {base_name} (`{baseline}`) results for {task}: gains cannot be computed.", ""]
    gains = []
    for m in coll.methods:
        if m != baseline:
            g = [fmt_gain(coll.gain(task, m, c, baseline)) for c in targets]
            g += [gain_average(coll, task, m, baseline)]
            gains.append([method_name(m), *g, *(fmt_gain(coll.gain(task, m, c, baseline)) for c in sources)])
    if not gains:
        return out
    out += [
        f"Gain over {base_name} (difference of means, points of {METRIC_NAMES.get(coll.metric(task), coll.metric(task))}):",
        "",
    ]
    return out + _md_table(header, gains) + [""]


def missing_section(coll: Collection) -> list[str]:
    """Cells of the implied grid (every task × method × language seen anywhere) with no result, and
    cells with fewer seeds than the most-seeded cell."""
    absent, few = defaultdict(list), []
    most = coll.max_seeds
    for task in coll.tasks:
        for m in coll.methods:
            for col in coll.columns[task]:
                cell = coll.cell(task, m, col)
                if cell is None:
                    absent[task, m].append(col.label)
                elif len(cell.entries) < most:
                    seeds = fmt_seeds(cell.seeds)
                    few.append(f"- `{cell.name}`: {len(cell.entries)} of {most} seeds (has seed(s) {seeds})")
    n_cols = {len(coll.columns[t]) for t in coll.tasks}
    out = [
        "## Missing",
        "",
        f"Grid implied by the results: {len(coll.tasks)} task(s) × {len(coll.methods)} method(s) × "
        f"{'/'.join(map(str, sorted(n_cols)))} language column(s).",
        "",
    ]
    if absent:
        total = sum(map(len, absent.values()))
        out += [f"No result ({total} cells):", ""]
        out += [f"- {t}, {method_name(m)} (`{m}`): {', '.join(cols)}" for (t, m), cols in absent.items()]
    else:
        out.append("No result: none, the grid is complete.")
    out.append("")
    if few:
        out += [f"Fewer seeds than the most-seeded cell ({most}):", "", *few]
    else:
        out.append(f"Fewer seeds: none, every cell with results has {most} seed(s).")
    return out + [""]


def translation_quality(coll: Collection) -> dict[tuple[str, str], dict]:
    """(task, lang) -> mean BLEU and chrF over the runs in the tables that report them, and the counts."""
    acc: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: {"bleu": [], "chrf": []})
    for run in coll.used_runs:
        for lang, scores in run.translation_quality.items():
            for key in ("bleu", "chrf"):
                if key in scores:
                    acc[run.task, lang][key].append(scores[key])
    langs = order_langs({lang for _, lang in acc})
    out = {}
    for key in sorted(acc, key=lambda k: (task_rank(k[0]), langs.index(k[1]))):
        v = acc[key]
        out[key] = {
            "bleu": statistics.fmean(v["bleu"]) if v["bleu"] else None,
            "chrf": statistics.fmean(v["chrf"]) if v["chrf"] else None,
            "runs": max(len(v["bleu"]), len(v["chrf"])),
        }
    return out


def quality_section(coll: Collection) -> list[str]:
    tq = translation_quality(coll)
    out = ["## Translation quality", ""]
    if not tq:
        return out + ["No run reports the quality of its self-translations.", ""]
    out += ["Mean over the runs in the tables that report it (BLEU and chrF, 0–100).", ""]

    def num(x):
        return DASH if x is None else f"{x:.1f}"

    rows = [[t, lang, num(q["bleu"]), num(q["chrf"]), str(q["runs"])] for (t, lang), q in tq.items()]
    return out + _md_table(["Task", "Lang", "BLEU", "chrF", "Runs"], rows) + [""]


def notes_section(coll: Collection) -> list[str]:
    mismatched = [c for c in coll.cells.values() if c.mismatch]
    mismatched.sort(
        key=lambda c: (task_rank(c.task), coll.methods.index(c.method), coll.columns[c.task].index(c.column))
    )
    lines = [f"- {DAGGER} `{c.name}`: {c.mismatch}." for c in mismatched]
    lines += [f"- {n}" for n in coll.notes]
    out = ["## Notes", "", *(lines or ["- None."]), ""]
    if coll.skipped:
        out += ["## Skipped files", "", "These could not be used (the rest of the report is unaffected):", ""]
        out += [f"- {s}" for s in coll.skipped] + [""]
    return out


def render_markdown(coll: Collection, baseline: str = "zero-shot", stats_lines: list[str] | None = None) -> str:
    """The report's Markdown; ``stats_lines``: the statistics section (see
    :mod:`selftt.report.statistics_section`), placed after the result tables."""
    models = ", ".join(f"`{m}`" for m in coll.models) or "none"
    out = [
        "# Self-Translate-Train results",
        "",
        f"{coll.n_files} results.json under `{coll.root}` (stage: {coll.stage or 'any'}); "
        f"{len(coll.used_runs)} runs in the tables; model(s): {models}; "
        f"gains relative to {method_name(baseline)} (`{baseline}`).",
        "",
        "Each cell is mean ± std over seeds of the metric in the task's heading (its primary metric "
        "unless `--metric` chose another; std is the sample standard "
        "deviation, ddof=1), with the number of seeds; a single seed shows the mean only. "
        f"{DASH}: no result. {DAGGER}: the seeds of the cell were evaluated differently (see Notes), so "
        "its mean mixes numbers that are not directly comparable. "
        "**avg** is the mean of the row's cell means over the target languages the row has; English "
        "held-out sets (`en`, a forgetting check) are shown after it and never counted in it. A suffix "
        "(k/K) means the row has only k of the K target languages with results for the task, so that "
        "average is not comparable with the other rows. The avg gain is the mean of per-language gains "
        "over the languages where both the method and the baseline have results.",
        "",
    ]
    if not coll.cells:
        out += ["No usable results (see Skipped files).", ""]
    for task in coll.tasks:
        out += task_section(coll, task, baseline)
    out += list(stats_lines or [])
    out += missing_section(coll) + quality_section(coll) + self_translation_section(coll) + notes_section(coll)
    return "\n".join(out).rstrip() + "\n"
