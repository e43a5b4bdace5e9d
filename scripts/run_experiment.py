"""The small real-data experiment: zero-shot transfer vs Self-Translate-Train on XQuAD.

    python scripts/run_experiment.py                 # split the data, run every fit, write the report
    python scripts/run_experiment.py --dry-run       # print the commands only

Interrupted? Run it again: fits that finished are skipped (``--rerun`` redoes them), translations
already in the cache are reused, and an unfinished fit starts over in a new version folder.

XQuAD (``../shared/data/xquad``) is parallel across languages by paragraph. The first
``--train-paragraphs`` English paragraphs are the source training data; German and Chinese
questions from the *other* paragraphs are the evaluation sets, so no paragraph or question is
in both. Runs (``--seeds`` each): zero-shot transfer (English only, evaluated in de and zh),
Self-Translate-Train into German, into Chinese. Then ``python -m selftt report``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "xquad"
RUNS = {
    "zero-shot": "configs/experiment/xquad_zero_shot.yaml",
    "stt-de": "configs/experiment/xquad_stt_de.yaml",
    "stt-zh": "configs/experiment/xquad_stt_zh.yaml",
}


def split(out: Path, train_paragraphs: int, eval_paragraphs: int) -> None:
    """Write the English training paragraphs and the de/zh/en evaluation paragraphs (disjoint)."""
    out.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "de", "zh"):
        data = json.loads((SHARED / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        paragraphs = [(article["title"], p) for article in data["data"] for p in article["paragraphs"]]
        parts = {
            "train": paragraphs[:train_paragraphs],
            "eval": paragraphs[train_paragraphs : train_paragraphs + eval_paragraphs],
        }
        for part, chosen in parts.items():
            if part == "train" and lang != "en":
                continue
            articles = [{"title": title, "paragraphs": [p]} for title, p in chosen]
            path = out / f"xquad_{part}_{lang}.json"
            path.write_text(
                json.dumps({"version": "1.1", "data": articles}, ensure_ascii=False), encoding="utf-8"
            )


def finished(run: Path) -> bool:
    """A run folder with a version holding results.json and the exported adapter (fit completed)."""
    return any((v / "results.json").is_file() and (v / "adapter").is_dir() for v in run.glob("version_*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--train-paragraphs", type=int, default=20)
    parser.add_argument("--eval-paragraphs", type=int, default=12)
    parser.add_argument("--logs", default="logs/experiment")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument(
        "--rerun", action="store_true", help="run every fit again, even those that already finished"
    )
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"XQuAD not found at {SHARED}", file=sys.stderr)
        return 2
    split(REPO / "cache" / "experiment", args.train_paragraphs, args.eval_paragraphs)
    commands = []
    for seed in args.seeds:
        for name, config in RUNS.items():
            if not args.rerun and finished(REPO / args.logs / f"{name}-s{seed}"):
                print(f"= {name}-s{seed}: finished earlier (its results.json exists); --rerun to redo it")
                continue
            commands.append(
                [
                    sys.executable,
                    "-m",
                    "selftt",
                    "fit",
                    "--config",
                    config,
                    "--seed_everything",
                    str(seed),
                    "--trainer.logger.init_args.save_dir",
                    args.logs,
                    "--trainer.logger.init_args.name",
                    f"{name}-s{seed}",
                ]
            )
    commands.append([sys.executable, "-m", "selftt", "report", "--logs", args.logs])
    for command in commands:
        print("+", shlex.join(command), flush=True)
        if not args.dry_run:
            subprocess.run(command, cwd=REPO, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
