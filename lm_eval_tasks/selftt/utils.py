"""lm-evaluation-harness tasks that score a model on selftt's own evaluation sets with selftt's own
prompts and answer parsing, as a cross-check of ``python -m selftt validate``/``test``.

    lm_eval --model hf --model_args pretrained=BASE,peft=ADAPTER,dtype=float32 \\
        --include_path lm_eval_tasks --tasks selftt_math --batch_size 1 \\
        --gen_kwargs max_gen_toks=N --metadata '{"config": "X.yaml", "stage": "val", "set": 0}'

``config`` is the selftt config (its ``data`` section: task, files, shots, prompt style);
``stage`` ``val`` (``data.val_sets``) or ``test``; ``set`` the set's index or name. ``N`` must be
the set's ``max_new_tokens`` (else ``model.generation.max_new_tokens``): the harness cannot take
it from the data, and a longer generation can change the parsed answer; ``load_docs`` logs it.
The generation is cut at selftt's stop strings and parsed and scored by selftt's task, so the
only things left to differ are the engine (the harness's ``hf`` model) and the decoding.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

log = logging.getLogger("selftt.lm_eval")


def _loaded_set(config: str, stage: str, which: int | str):
    from selftt.cli import cli_main

    cli = cli_main(["--config", str(config)], run=False)
    datamodule, module = cli.datamodule, cli.model
    datamodule.setup("validate" if stage == "val" else "test")
    sets = datamodule.generation_eval_sets(stage)
    if not sets:
        raise ValueError(f"{config}: no {stage} sets to evaluate (data.{stage}_sets)")
    chosen = next((s for s in sets if s.name == which), None) if isinstance(which, str) else None
    chosen = chosen or sets[int(which)]
    budget = chosen.max_new_tokens or module.generation.max_new_tokens
    return datamodule, chosen, budget


def load_docs(config: str | None = None, stage: str = "val", set: int | str = 0, **_: Any):  # noqa: A002 (lm-eval's metadata key)
    """``custom_dataset``: the chosen selftt evaluation set as a ``test`` split, one doc per
    example with its selftt prompt, gold answer, language, stop strings and task."""
    import datasets

    if config is None:
        raise ValueError("pass the selftt config: --metadata '{\"config\": \"X.yaml\"}'")
    datamodule, chosen, budget = _loaded_set(config, stage, set)
    log.warning("selftt set '%s': pass --gen_kwargs max_gen_toks=%d (selftt's max_new_tokens)", chosen.name, budget)
    task = datamodule.task
    rows = [
        {
            "id": example["id"],
            "lang": chosen.lang,
            "prompt": datamodule.eval_prompt(example, chosen.shots),
            "gold": json.dumps(example[task.gold_field], ensure_ascii=False),
            "stop": datamodule.formatter.stop_strings(),
            "task": json.dumps({"name": task.name, "options": datamodule.task_options}),
        }
        for example in chosen.examples
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def doc_to_text(doc: dict) -> str:
    """The prompt exactly as selftt builds it (few-shot examples and chat template included)."""
    return doc["prompt"]


@lru_cache(maxsize=8)
def _task(spec: str):
    from selftt.tasks import get_task

    parsed = json.loads(spec)
    return get_task(parsed["name"], **(parsed["options"] or {}))


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    """selftt's scores of one generation (0-100; their mean over the set is selftt's score)."""
    from selftt.modules.generation import cut_at_stop

    task = _task(doc["task"])
    answer = task.parse_answer(cut_at_stop(results[0], doc["stop"]), doc["lang"])
    return task.checked_score([answer], [json.loads(doc["gold"])], doc["lang"])
