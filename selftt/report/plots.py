"""Figures of the report: results per task and language, and translation quality against the gain
of Self-Translate-Train over the baseline.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so importing this module never
changes the process-wide backend and needs no display.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from selftt.report.collect import Collection
from selftt.report.table import method_name, metric_label, translation_quality

NO_POINTS = "no runs with both translation quality and a zero-shot baseline yet"


def _figure(**kwargs) -> Figure:
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _colors(methods: list[str]) -> dict[str, tuple]:
    cmap = colormaps["tab10"]
    return {m: cmap(i % 10) for i, m in enumerate(methods)}


def plot_results(coll: Collection, path: Path) -> Path:
    """Grouped bars: x = languages, one bar per method (mean over seeds, error bar = std), one
    subplot per task. Hatched bars are cells whose seeds were evaluated differently (†)."""
    tasks = [t for t in coll.tasks if any(c.task == t for c in coll.cells.values())]
    colors = _colors(coll.methods)
    if not tasks:
        fig = _figure(figsize=(7, 3))
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "no results yet", ha="center", va="center", fontsize=14)
        fig.savefig(path, dpi=120)
        return path
    widths = []
    for t in tasks:
        cols = [c for c in coll.columns[t] if any(coll.cell(t, m, c) for m in coll.methods)]
        widths.append(max(4.0, 1.1 * len(cols) * max(1, len(coll.methods)) * 0.35 + 1.5))
    fig = _figure(figsize=(sum(widths), 4.8))
    axes = fig.subplots(1, len(tasks), squeeze=False, width_ratios=widths)
    any_hatch = False
    for ax, task in zip(axes[0], tasks, strict=True):
        cols = [c for c in coll.columns[task] if any(coll.cell(task, m, c) for m in coll.methods)]
        methods = [m for m in coll.methods if any(coll.cell(task, m, c) for c in cols)]
        width = 0.8 / max(1, len(methods))
        for i, m in enumerate(methods):
            for j, col in enumerate(cols):
                cell = coll.cell(task, m, col)
                if cell is None:
                    continue
                x = j - 0.4 + width * (i + 0.5)
                any_hatch |= bool(cell.mismatch)
                ax.bar(
                    x,
                    cell.mean,
                    width,
                    yerr=cell.std if cell.std is not None else None,
                    capsize=3,
                    color=colors[m],
                    edgecolor="black",
                    linewidth=0.5,
                    hatch="//" if cell.mismatch else None,
                    label=method_name(m),
                )
        ax.set_xticks(range(len(cols)), [c.label for c in cols])
        ax.set_xlim(-0.6, len(cols) - 0.4)
        ax.set_xlabel("evaluation language")
        ax.set_ylabel(metric_label(coll.metric(task)))
        ax.set_title(task)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    handles = {}
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    order = [method_name(m) for m in coll.methods if method_name(m) in handles]
    fig.legend([handles[k] for k in order], order, loc="lower center", ncol=min(len(order), 3), frameon=False)
    caption = "bars: mean over seeds; error bars: std (ddof=1)"
    if any_hatch:
        caption += "; hatched: seeds evaluated differently (see report notes)"
    fig.suptitle(f"Results by task and language\n({caption})", fontsize=11)
    rows = (len(order) + 2) // 3
    fig.tight_layout(rect=(0, 0.06 * rows + 0.02, 1, 1))
    fig.savefig(path, dpi=120)
    return path


def quality_gain_points(coll: Collection, method: str, baseline: str) -> list[tuple[str, str, float, float]]:
    """(task, lang, mean chrF, gain of ``method`` over ``baseline``) for each (task, lang) having both."""
    points = []
    for (task, lang), q in translation_quality(coll).items():
        if q["chrf"] is None or task not in coll.columns:
            continue
        for col in coll.columns[task]:
            gain = coll.gain(task, method, col, baseline) if col.lang == lang else None
            if gain is not None:
                points.append((task, col.label, q["chrf"], gain))
    return points


def plot_quality_vs_gain(
    coll: Collection, path: Path, baseline: str = "zero-shot", method: str = "stt"
) -> Path:
    """Scatter: chrF of the self-translations (x) against the gain of ``method`` over ``baseline`` (y),
    one labeled point per (task, language)."""
    points = quality_gain_points(coll, method, baseline)
    fig = _figure(figsize=(7, 5))
    ax = fig.add_subplot()
    ax.set_title(f"Translation quality vs. gain of {method_name(method)}\nover {method_name(baseline)}")
    ax.set_xlabel("chrF of the self-translations (0–100, mean over runs)")
    ax.set_ylabel(f"gain over {method_name(baseline)}\n(points of the primary metric: accuracy or F1, %)")
    if not points:
        ax.text(0.5, 0.5, NO_POINTS, ha="center", va="center", wrap=True, transform=ax.transAxes, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        markers = "osD^v<>"
        tasks = list(dict.fromkeys(p[0] for p in points))
        cmap = colormaps["tab10"]
        for i, task in enumerate(tasks):
            xs = [p[2] for p in points if p[0] == task]
            ys = [p[3] for p in points if p[0] == task]
            ax.scatter(
                xs, ys, s=60, marker=markers[i % len(markers)], color=cmap(i % 10), label=task, zorder=3
            )
        for task, label, x, y in points:
            cells = [
                coll.cell(task, m, c)
                for m in (method, baseline)
                for c in coll.columns[task]
                if c.label == label
            ]
            if any(c is not None and c.mismatch for c in cells):
                label += " †"  # seeds evaluated differently: see the report's notes
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=10)
        ax.axhline(0, color="gray", linewidth=0.8, linestyle="--")
        ax.grid(alpha=0.3)
        ax.legend(title="task")
        ax.margins(0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
