"""Find, validate and group the ``results.json`` of finished runs into (task, method, language) cells.

A cell holds one score per seed. Two results for the same (task, method, eval set, seed) are
duplicates (a re-run): the newest ``results.json`` is kept and a note says so. The key includes
the eval set because the paper trains one run per target language (``math_de_stt``,
``math_ru_stt``): those runs share task, method and seed but fill different cells. Cells whose
seeds were evaluated differently (model, settings, number of examples, stage, metric) are kept
but flagged, never silently averaged as if comparable.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from selftt.errors import SelfTTError
from selftt.evaluation.results_schema import default_primary_metric
from selftt.report.parse import Run, Score, parse_results
from selftt.tasks import TASKS

METHOD_ORDER = ("fewshot", "zero-shot", "stt", "stt+cs", "translate-train", "translate-train-human")
TASK_ORDER = tuple(TASKS)  # the built-in tasks in registry order; others after them, by name
LANG_ORDER = ("de", "ru", "th", "zh")


class NoResultsError(SelfTTError):
    """No ``results.json`` under the logs root (of the stage or with the metric asked for)."""


def _ordered(items, order: tuple[str, ...]) -> list[str]:
    items = set(items)
    return [x for x in order if x in items] + sorted(items - set(order))


def order_methods(methods) -> list[str]:
    return _ordered(methods, METHOD_ORDER)


def order_langs(langs, sources=("en",)) -> list[str]:
    """de, ru, th, zh, then other languages alphabetically, the source languages (held-out sets) last."""
    langs, sources = set(langs), set(sources)
    return _ordered(langs - sources, LANG_ORDER) + sorted(langs & sources)


@dataclass(frozen=True, order=True)
class Column:
    """A table column: a language, split by eval set only when a task has several sets in one language."""

    lang: str
    eval_set: str | None = None
    source: bool = False
    """A source language's column (held-out sets): shown, but not in the target-language average."""

    @property
    def label(self) -> str:
        return self.lang if self.eval_set is None else f"{self.lang} ({self.eval_set})"

    @property
    def is_target(self) -> bool:
        return not self.source


@dataclass
class Entry:
    run: Run
    score: Score


@dataclass
class Cell:
    """One (task, method, column): one entry per seed, sorted by seed; mean and sample std (ddof=1)."""

    task: str
    method: str
    column: Column
    entries: list[Entry]
    mismatch: str | None = None  # why the seeds are not comparable (the cell is marked †)

    def __post_init__(self) -> None:
        self.name = f"{self.task}/{self.column.label}/{self.method}"
        self.seeds = [e.run.seed for e in self.entries]
        self.values = [e.score.value for e in self.entries]
        self.mean = statistics.fmean(self.values)
        self.std = statistics.stdev(self.values) if len(self.values) > 1 else None  # None: one seed


@dataclass
class Collection:
    root: Path
    stage: str | None
    n_files: int
    runs: list[Run]  # valid runs of the selected stage (copies of one run counted once)
    cells: dict[tuple[str, str, Column], Cell]
    tasks: list[str]
    methods: list[str]  # every method seen anywhere, in table order
    langs: list[str]  # every language seen anywhere, in column order
    columns: dict[str, list[Column]]  # per task: every language seen anywhere (so the grid is complete)
    unused: dict[tuple[Path, str], str] = field(default_factory=dict)  # (file, eval set) -> why not used
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files or eval sets that could not be read

    def cell(self, task: str, method: str, column: Column) -> Cell | None:
        return self.cells.get((task, method, column))

    def gain(self, task: str, method: str, column: Column, baseline: str) -> float | None:
        """Difference of the means of ``method`` and ``baseline`` in one column (None if either is missing)."""
        a, b = self.cell(task, method, column), self.cell(task, baseline, column)
        return None if a is None or b is None else a.mean - b.mean

    def metric(self, task: str) -> str:
        names = Counter(
            e.run.primary_metric for c in self.cells.values() if c.task == task for e in c.entries
        )
        return names.most_common(1)[0][0] if names else (default_primary_metric(task) or "score")

    @property
    def max_seeds(self) -> int:
        return max((len(c.entries) for c in self.cells.values()), default=0)

    @property
    def models(self) -> Counter:
        return Counter(r.model or "unknown" for r in self.used_runs)

    @property
    def used_runs(self) -> list[Run]:
        ids = {id(e.run) for c in self.cells.values() for e in c.entries}
        return [r for r in self.runs if id(r) in ids]


def task_rank(task: str) -> tuple[int, str]:
    return (TASK_ORDER.index(task), "") if task in TASK_ORDER else (len(TASK_ORDER), task)


def seed_key(seed: int | None) -> tuple[bool, int]:
    return (seed is None, seed or 0)


def fmt_seeds(seeds: list[int | None]) -> str:
    return ",".join("unset" if s is None else str(s) for s in seeds)


def _seeds(seeds: list[int | None]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + fmt_seeds(seeds)


def _groups(entries: list[Entry], key) -> list[tuple[object, list[int]]]:
    groups: dict[object, list[int]] = {}
    for e in entries:
        groups.setdefault(key(e), []).append(e.run.seed)
    return list(groups.items())


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v, sort_keys=True)
    return out


BATCHING_ONLY = ("max_batch_tokens", "max_batch_size", "prefix_cache")
"""Speed-only generation settings, as in ``selftt.modules.generation`` (not imported from there: it
pulls in torch, and ``report`` starts in half a second without it; a test keeps them equal)."""


def _own_settings(entry: Entry) -> dict:
    """The run's settings, with ``eval_sets`` cut to this entry's set: other sets of the run do not
    change how this one was evaluated (and its size is compared as ``n``); batch sizes never do."""
    settings = dict(entry.run.settings)
    if isinstance(settings.get("generation"), dict):  # files written before batching keys were left out
        settings["generation"] = {k: v for k, v in settings["generation"].items() if k not in BATCHING_ONLY}
    if isinstance(settings.get("eval_sets"), list):
        prefix = f"{entry.score.eval_set}:"
        settings["eval_sets"] = [
            x for x in settings["eval_sets"] if str(x).startswith(prefix) or x == prefix[:-1]
        ]
    return settings


def find_mismatch(entries: list[Entry]) -> str | None:
    """Describe how the seeds of one cell were evaluated differently, or None if they match."""
    parts = []
    groups = _groups(entries, lambda e: e.score.n)
    if len(groups) > 1:
        (n0, s0), rest = groups[0], groups[1:]
        head = f"{_seeds(s0)} were evaluated on {n0 if n0 is not None else 'an unknown number of'} examples"
        parts.append(
            ", ".join([head] + [f"{_seeds(s)} on {n if n is not None else 'unknown'}" for n, s in rest])
        )
    for label, key in (
        ("used model", lambda e: e.run.model or "unknown"),
        ("come from stage", lambda e: e.run.stage or "unknown"),
        ("report", lambda e: e.run.primary_metric),
    ):
        groups = _groups(entries, key)
        if len(groups) > 1:
            parts.append(", ".join(f"{_seeds(s)} {label} {v}" for v, s in groups))
    flat = {e.run.seed: _flatten(_own_settings(e)) for e in entries}
    keys = sorted({k for f in flat.values() for k in f})
    diffs = []
    for k in keys:
        groups = _groups(entries, lambda e, k=k: flat[e.run.seed].get(k, "absent"))
        if len(groups) > 1:
            diffs.append(f"`{k}` is " + ", ".join(f"{v} for {_seeds(s)}" for v, s in groups))
    if diffs:
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        parts.append("settings differ: " + "; ".join(diffs[:3]) + more)
    return "; ".join(parts) or None


def _predictions_found(run: Run) -> int:
    """How many of the run's eval sets have their predictions file on disk."""
    return sum(s.predictions is not None and s.predictions.is_file() for s in run.scores)


def _at_recorded_place(run: Run) -> bool:
    """Whether the results.json lies in the folder its ``run_dir`` names (the recorded path may be
    relative to where the run started: compared by its ending)."""
    recorded = Path(run.run_dir).parts
    return bool(recorded) and run.path.resolve().parent.parts[-len(recorded) :] == recorded


def _dedupe_run_dirs(runs: list[Run], notes: list[str]) -> list[Run]:
    """One run per recorded ``run_dir`` *and* identity (task, method, seed): copies of one run count
    once, while different runs that recorded the same ``run_dir`` (made on two machines, or moved
    into separate folders afterwards) are all kept. Of copies, the one kept has the most of its
    prediction files, then lies where it was recorded (not a backup copied later), then is the
    newest; a note names it."""
    by_dir: dict[tuple, list[Run]] = defaultdict(list)
    for run in runs:
        by_dir[run.run_dir, run.task, run.method, run.seed].append(run)
    kept = []
    for (run_dir, *_), group in by_dir.items():
        group.sort(key=lambda r: (_predictions_found(r), _at_recorded_place(r), r.mtime, str(r.path)))
        kept.append(group[-1])
        if len(group) > 1:
            files = ", ".join(f"`{r.path}`" for r in group)
            notes.append(
                f"Run dir `{run_dir}` has {len(group)} results.json ({files}); kept `{group[-1].path}` "
                "(most prediction files, then at its recorded place, then the newest)."
            )
    return sorted(kept, key=lambda r: str(r.path))


def _under(path: Path, folders: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in folders)


def _note_unfinished(root: Path, notes: list[str], left_out: list[Path], shown: int = 5) -> None:
    """Note the run folders under ``root`` (a ``config.yaml``, written when a run starts) without a
    ``results.json`` (written when it ends): runs that failed, were stopped or are still running,
    and ``translate`` runs (they train and evaluate nothing)."""
    unfinished = sorted(
        p.parent for p in root.rglob("config.yaml") if not (p.parent / "results.json").exists() and not _under(p, left_out)
    )
    if unfinished:
        listed = ", ".join(f"`{d}`" for d in unfinished[:shown]) + (", ..." if len(unfinished) > shown else "")
        notes.append(
            f"{len(unfinished)} run folder(s) have no results.json (failed, stopped or still running, "
            f"or a `translate` run, which writes none; not in the tables): {listed}."
        )


def _note_nothing_kept(runs: list[Run], notes: list[str]) -> None:
    """Note each run whose filters kept none of a language's self-translations: its method's name
    says it trained on them, but it trained on its other components only."""
    for run in runs:
        for lang, entry in sorted(run.self_translation.items()):
            if int(entry.get("total", 0)) > 0 and int(entry.get("kept", 0)) == 0:
                notes.append(
                    f"`{run.run_dir}` ({run.task}/{run.method} {_seeds([run.seed])}) kept 0 of {entry['total']} "
                    f"self-translated examples in {lang}: it trained without them, so its cells do not "
                    f"measure {run.method}."
                )


def collect(
    root: str | Path = "logs", stage: str | None = None, metric: str | None = None, skip: Sequence[str | Path] = ()
) -> Collection:
    """Read every ``results.json`` under ``root`` (of one ``stage`` if given) into cells, each run
    valued by ``metric`` where given (default: its ``primary_metric``).

    Raises :class:`NoResultsError` when there is no ``results.json`` at all, or when ``metric``
    is given and no file has it; bad files are skipped and listed in ``Collection.skipped``.
    Folders in ``skip`` (under ``root``) are left out, with a note.
    """
    root = Path(root)
    if not root.is_dir():
        raise NoResultsError(f"{root} {'is not a folder' if root.exists() else 'does not exist'} (expected the runs' log folder)")
    left_out = [Path(s).resolve() for s in skip]
    files = sorted(p for p in root.rglob("results.json") if not _under(p, left_out))
    if not files:
        outside = ""
        if skip:
            outside = f" outside {', '.join(map(str, skip))} (runs shipped with selftt: report them with --logs {skip[0]})"
        raise NoResultsError(f"no results.json found under {root}{outside}")
    notes, skipped, runs, other_stage = [], [], [], Counter()
    for path in files:
        try:
            run, problems = parse_results(path, metric)
        except ValueError as err:
            skipped.append(f"`{path}`: {err}")
            continue
        skipped.extend(f"`{path}`: ignored eval set {p}" for p in problems)
        if stage is not None and run.stage != stage:
            other_stage[run.stage or "unknown"] += 1
            continue
        runs.append(run)
    if metric is not None and not runs and not other_stage:
        raise NoResultsError(f"no results.json under {root} has metric {metric!r} in an evaluation set")
    if stage is not None and not runs and other_stage:
        found = ", ".join(f"{n} of stage {s}" for s, n in sorted(other_stage.items()))
        raise NoResultsError(f"no results.json of stage {stage!r} under {root} (found {found})")
    if other_stage:
        counts = ", ".join(f"{n} from {s}" for s, n in sorted(other_stage.items()))
        notes.append(
            f"Only stage `{stage}` is reported: ignored {sum(other_stage.values())} results.json ({counts})."
        )
    runs = _dedupe_run_dirs(runs, notes)
    _note_unfinished(root, notes, left_out)
    notes.extend(f"Left out `{s}` (runs shipped with selftt): report them with `--logs {s}`." for s in skip)
    _note_nothing_kept(runs, notes)

    tasks = sorted({r.task for r in runs}, key=task_rank)
    methods = order_methods({r.method for r in runs})
    sources = {r.source_lang for r in runs}
    langs = order_langs({s.lang for r in runs for s in r.scores}, sources)
    sets_by_lang = defaultdict(set)
    for r in runs:
        for s in r.scores:
            sets_by_lang[r.task, s.lang].add(s.eval_set)
    columns: dict[str, list[Column]] = {}
    for task in tasks:
        cols = []
        for lang in langs:
            names = sorted(sets_by_lang.get((task, lang), ()))
            src = lang in sources
            cols.extend([Column(lang, n, src) for n in names] if len(names) > 1 else [Column(lang, source=src)])
        columns[task] = cols

    candidates: dict[tuple, list[Entry]] = defaultdict(list)
    for r in runs:
        for s in r.scores:
            src = s.lang in sources
            col = Column(s.lang, s.eval_set, src) if len(sets_by_lang[r.task, s.lang]) > 1 else Column(s.lang, source=src)
            candidates[r.task, r.method, col, r.seed].append(Entry(r, s))
    unused: dict[tuple[Path, str], str] = {}
    rerun_notes: dict[tuple, list[str]] = defaultdict(list)
    by_cell: dict[tuple[str, str, Column], list[Entry]] = defaultdict(list)
    for (task, method, col, seed), group in candidates.items():
        group.sort(key=lambda e: (e.run.mtime, str(e.run.path)))
        best = group[-1]
        by_cell[task, method, col].append(best)
        for e in group[:-1]:
            unused[e.run.path, e.score.eval_set] = f"superseded by newer {best.run.run_dir}"
        if len(group) > 1:
            older = tuple(e.run.run_dir for e in group[:-1])
            rerun_notes[task, method, seed, best.run.run_dir, older].append(col.label)
    for (task, method, seed, best, older), cols in rerun_notes.items():
        dirs = ", ".join(f"`{d}`" for d in older)
        notes.append(
            f"{task}/{method} {_seeds([seed])}: several runs for {', '.join(cols)}; "
            f"kept the newest, `{best}`, and dropped {dirs}."
        )

    cells = {}
    for (task, method, col), entries in by_cell.items():
        entries.sort(key=lambda e: seed_key(e.run.seed))
        cells[task, method, col] = Cell(task, method, col, entries, find_mismatch(entries))
    coll = Collection(
        root, stage, len(files), runs, cells, tasks, methods, langs, columns, unused, notes, skipped
    )
    stages = sorted({r.stage or "unknown" for r in coll.used_runs})
    if stage is None and len(stages) > 1:
        notes.append(f"Results come from several stages ({', '.join(stages)}); pass `--stage` to pick one.")
    unseeded = sum(r.seed is None for r in coll.used_runs)
    if unseeded:
        notes.append(
            f"{unseeded} run(s) have no seed (`seed: null`): per cell they count as one seed, `unset`, "
            "and only the newest is kept."
        )
    if len(coll.models) > 1:
        models = ", ".join(f"`{m}` ({n} runs)" for m, n in coll.models.most_common())
        notes.append(f"Runs use different models: {models}. Compare rows only within one model.")
    return coll
