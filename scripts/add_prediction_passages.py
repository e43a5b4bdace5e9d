"""Add each question's ``passage`` to predictions written before evaluation recorded it, so that
the report's by-passage test (``selftt.report.statistics``) covers older runs too.

    python scripts/add_prediction_passages.py --logs logs/study --data 'cache/study/xquad_eval_{lang}.json'

For every ``results.json`` under ``--logs`` whose task has a passage field (QA: the context;
NLI: the premise), each evaluation set's predictions file gets, on every record without one,
``passage``: the digest evaluation records today (``Task.passage_of``) of the example with the
same id in the data file of the set's language (``--data``, ``{lang}`` filled in). A record whose
id is not in that file, or whose gold differs from the file's, stops the script naming the file
and line: the data file is not the one the run was evaluated on. Files are rewritten
atomically; records that have a passage are left as they are; nothing else changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from selftt.report.statistics import read_predictions
from selftt.tasks import get_task
from selftt.utils.atomic import write_jsonl_atomic


def add_passages(predictions: Path, task, examples: dict[str, dict]) -> int:
    """Add ``passage`` to the records of ``predictions`` that lack it; return how many got one.
    Raises ValueError naming the file and line of a record the examples do not match."""
    records = read_predictions(predictions)
    added = 0
    for line, record in enumerate(records, 1):
        if "passage" in record:
            continue
        example = examples.get(str(record["id"]))
        if example is None or example[task.gold_field] != record["gold"]:
            what = "is not in the data file" if example is None else "has another gold answer there"
            raise ValueError(f"{predictions}:{line}: question {record['id']!r} {what}")
        record["passage"] = task.passage_of(example)
        added += 1
    if added:
        write_jsonl_atomic(predictions, records)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logs", required=True, help="folder searched for results.json")
    parser.add_argument("--data", required=True, help="evaluation data file per language, with {lang}")
    args = parser.parse_args(argv)
    loaded: dict[tuple[str, str], dict[str, dict]] = {}
    total = 0
    for results_path in sorted(Path(args.logs).rglob("results.json")):
        results = json.loads(results_path.read_text(encoding="utf-8"))
        task = get_task(results["task"])
        if task.passage_field is None:
            continue
        for entry in results["metrics"].values():
            if not entry.get("predictions"):
                continue
            key = (task.name, entry["lang"])
            if key not in loaded:
                path = args.data.format(lang=entry["lang"])
                loaded[key] = {str(e["id"]): e for e in task.load(path, entry["lang"])}
            try:
                added = add_passages(results_path.parent / entry["predictions"], task, loaded[key])
            except ValueError as err:
                print(f"add_prediction_passages: {err}", file=sys.stderr)
                return 2
            total += added
            print(f"{results_path.parent / entry['predictions']}: {added} passages added", flush=True)
    print(f"{total} records given a passage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
