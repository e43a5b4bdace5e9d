"""The study: FewShot, zero-shot transfer, Self-Translate-Train (with and without code-switched
data) and translate-train on XQuAD's human translation, in de, ru, th and zh, several seeds.

    python scripts/run_study.py                      # split XQuAD, run every run, write the report
    python scripts/run_study.py --dry-run            # print the commands only
    python scripts/run_study.py --langs de --seeds 0 --train-paragraphs 4 --eval-paragraphs 4   # a pilot
    python scripts/run_study.py --engine vllm --accelerator gpu --eval-paragraphs 0 --logs logs/study-gpu
                                                     # full size: every paragraph not trained on

XQuAD (``../shared/data/xquad``) is parallel across languages by paragraph and question id. The
first ``--train-paragraphs`` paragraphs are the training data: their English questions are the
source (``src``); their human translation is the upper bound no self-translation can beat
(``translate-train-human``). The next ``--eval-paragraphs`` paragraphs' questions in each target
language are the evaluation sets, so no paragraph or question is in both.

Runs, per seed (FewShot is greedy and untrained: one run, seed-independent):

- ``fewshot``: the untrained model with ``--fewshot`` human examples in the target language
  (from the training paragraphs) before each question (``selftt validate``);
- ``zero-shot``: LoRA on English only, evaluated in every target language;
- ``stt-<lang>``: English + the model's own translation into <lang> (Self-Translate-Train); in
  the first seed's run the model also translates the training paragraphs' contexts and questions
  once more (plain, no answer markers) and is scored against XQuAD's human translation of them
  (``translation.quality``: chrF and BLEU in results.json; greedy, so the same for every seed,
  and skipped when a finished stt run of that language already holds it);
- ``stt+cs-<lang>``: the same + code-switched pairs;
- ``translate-train-human-<lang>``: English + XQuAD's human translation into <lang>.

Interrupted? Run it again: runs that finished are skipped (``--rerun`` redoes them), translations
in the cache (``logs/study/translations``, kept in git) are reused, an unfinished fit starts
over in a new version folder. The wall time of
each run goes to ``<logs>/timings.json``; then ``python -m selftt report --logs <logs>``.
Configuration shared by all runs: ``configs/experiment/study/base.yaml``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "xquad"
BASE = "configs/experiment/study/base.yaml"
DATA = REPO / "cache" / "study"
METHODS = ("fewshot", "zero-shot", "stt", "stt+cs", "translate-train-human")


def split(langs: list[str], train_paragraphs: int, eval_paragraphs: int) -> dict[str, int]:
    """Write ``xquad_train_<lang>.json`` (English and each target language) and
    ``xquad_eval_<lang>.json`` (targets) into ``cache/study``; return the questions per file."""
    DATA.mkdir(parents=True, exist_ok=True)
    counts = {}
    for lang in ["en", *langs]:
        data = json.loads((SHARED / f"xquad.{lang}.json").read_text(encoding="utf-8-sig"))
        paragraphs = [(article["title"], p) for article in data["data"] for p in article["paragraphs"]]
        parts = {"train": paragraphs[:train_paragraphs]}
        if lang != "en":
            end = train_paragraphs + eval_paragraphs if eval_paragraphs else None  # 0: every other paragraph
            parts["eval"] = paragraphs[train_paragraphs:end]
        for part, chosen in parts.items():
            articles = [{"title": title, "paragraphs": [p]} for title, p in chosen]
            path = DATA / f"xquad_{part}_{lang}.json"
            path.write_text(json.dumps({"version": "1.1", "data": articles}, ensure_ascii=False), encoding="utf-8")
            counts[path.name] = sum(len(p["qas"]) for _, p in chosen)
    return counts


def _data(name: str) -> str:
    return str((DATA / name).relative_to(REPO))


def eval_set(lang: str, fewshot: int = 0) -> dict:
    out = {"path": _data(f"xquad_eval_{lang}.json"), "lang": lang, "name": f"xquad_{lang}"}
    if fewshot:
        out |= {"fewshot": fewshot, "fewshot_path": _data(f"xquad_train_{lang}.json")}
    return out


def quality_reference(lang: str) -> dict:
    """``translation.quality`` entry: the training paragraphs (all their contexts and questions)
    against XQuAD's human translation of them into ``lang``."""
    return {"source": _data("xquad_train_en.json"), "reference": _data(f"xquad_train_{lang}.json"), "lang": lang, "limit": None}


def runs(
    langs: list[str], seeds: list[int], methods: list[str], fewshot: int, scored: frozenset[str] = frozenset()
) -> list[tuple[str, int | None, list[str]]]:
    """(run name, seed, selftt arguments after the subcommand) of every run, in order. Translation
    quality is scored in the first seed's stt run of each language not in ``scored`` (languages
    a finished run already scored: greedy translation is the same for every seed)."""
    src = {"name": "src", "path": _data("xquad_train_en.json"), "lang": "en"}
    out = []
    if "fewshot" in methods:
        sets = [eval_set(lang, fewshot) for lang in langs]
        out.append(("fewshot", None, ["validate", "--data.val_sets", json.dumps(sets)]))
    for seed in seeds:
        if "zero-shot" in methods:
            sets = [eval_set(lang) for lang in langs]
            out.append(("zero-shot", seed, ["fit", "--data.components", json.dumps([src]), "--data.val_sets", json.dumps(sets)]))
        for lang in langs:
            mixtures = {
                "stt": [src, {"name": "tgt", "lang": lang}],
                "stt+cs": [src, {"name": "tgt", "lang": lang}, {"name": "cs", "lang": lang}],
                "translate-train-human": [src, {"name": "src", "path": _data(f"xquad_train_{lang}.json"), "lang": lang}],
            }
            for method, components in mixtures.items():
                if method not in methods:
                    continue
                args = ["fit", "--data.components", json.dumps(components), "--data.val_sets", json.dumps([eval_set(lang)])]
                if method == "stt" and seed == seeds[0] and lang not in scored:
                    args += ["--translation.quality", json.dumps([quality_reference(lang)])]
                if method == "translate-train-human":
                    args += ["--evaluation.method", method]
                out.append((f"{method}-{lang}", seed, args))
    return out


def finished(run: Path) -> bool:
    """A run folder with a version holding results.json. A study fit validates once, at the end
    of its one epoch, so its results.json holds the final scores; adapters are not kept in git
    (``.gitignore``), so a fresh checkout resumes from the committed results alone."""
    return any((version / "results.json").is_file() for version in run.glob("version_*"))


def scored_langs(logs: Path, langs: list[str]) -> frozenset[str]:
    """Languages whose translation quality a finished ``stt-<lang>-s*`` run under ``logs`` holds in
    its results.json, so that ``--seeds 1 2`` after seed 0 does not translate the references again."""
    out = set()
    for lang in langs:
        for results in logs.glob(f"stt-{lang}-s*/version_*/results.json"):
            if lang in json.loads(results.read_text(encoding="utf-8")).get("translation_quality", {}):
                out.add(lang)
    return frozenset(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--langs", nargs="+", default=["de", "ru", "th", "zh"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--train-paragraphs", type=int, default=20)
    parser.add_argument(
        "--eval-paragraphs", type=int, default=24, help="about 4.8 questions each; 0: all the others (the full size)"
    )
    parser.add_argument("--fewshot", type=int, default=2, help="in-context examples of the FewShot runs")
    parser.add_argument(
        "--engine",
        choices=("hf", "vllm"),
        default="hf",
        help="generation engine of self-translation (translation.engine.name) and of the untrained FewShot "
        "runs (model.engine.name); trained runs evaluate on hf (vLLM's LoRA path is slower on CPU)",
    )
    parser.add_argument("--model", default=None, help="model.model_name_or_path (default: the config's, Gemma 3 270M)")
    parser.add_argument("--accelerator", default=None, help="trainer.accelerator (default: the config's, cpu)")
    parser.add_argument("--logs", default="logs/study")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--rerun", action="store_true", help="run every run again, even those that finished")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"XQuAD not found at {SHARED}", file=sys.stderr)
        return 2
    counts = split(args.langs, args.train_paragraphs, args.eval_paragraphs)
    print("questions: " + ", ".join(f"{name} {n}" for name, n in counts.items()), flush=True)
    logs = REPO / args.logs
    timings_path = logs / "timings.json"
    timings = json.loads(timings_path.read_text(encoding="utf-8")) if timings_path.is_file() else {}
    scored = frozenset() if args.rerun else scored_langs(logs, args.langs)
    for name, seed, selftt_args in runs(args.langs, args.seeds, args.methods, args.fewshot, scored):
        folder = name if seed is None else f"{name}-s{seed}"
        if not args.rerun and finished(logs / folder):
            print(f"= {folder}: finished earlier (its results.json exists); --rerun to redo it", flush=True)
            continue
        command = [sys.executable, "-m", "selftt", selftt_args[0], "--config", BASE, *selftt_args[1:]]
        command += ["--trainer.logger.init_args.save_dir", args.logs, "--trainer.logger.init_args.name", folder]
        engine_key = "--translation.engine.name" if selftt_args[0] == "fit" else "--model.engine.name"
        command += [engine_key, args.engine]
        command += ["--seed_everything", str(seed)] if seed is not None else []
        command += ["--model.model_name_or_path", args.model] if args.model else []
        command += ["--trainer.accelerator", args.accelerator] if args.accelerator else []
        print("+", shlex.join(command), flush=True)
        if args.dry_run:
            continue
        began = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True)
        timings[folder] = round(time.perf_counter() - began, 1)
        logs.mkdir(parents=True, exist_ok=True)
        timings_path.write_text(json.dumps(timings, indent=1) + "\n", encoding="utf-8")
    report = [sys.executable, "-m", "selftt", "report", "--logs", args.logs]
    print("+", shlex.join(report), flush=True)
    if not args.dry_run:
        subprocess.run(report, cwd=REPO, check=True)
        print(f"wall time of the runs: {sum(timings.values()) / 60:.1f} min ({timings_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
