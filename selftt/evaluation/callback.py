"""Generation-based evaluation: answer the evaluation sets, extract, score, log, write."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from selftt.config_checks import check_range
from selftt.datamodules.eval_sets import LoadedEvalSet
from selftt.evaluation.results import RESULTS_FILE, build_results, evaluated_step, method_of
from selftt.utils.atomic import write_json_atomic, write_jsonl_atomic
from selftt.utils.distributed import Distributed
from selftt.utils.text_log import log_markdown

log = logging.getLogger(__name__)


class GenerationEvaluation(Callback):
    """At the end of each validation (in ``fit`` and ``validate``) and of ``test``, the model
    answers every evaluation set by generation; answers are extracted and scored with the
    task's metric. Under DDP each rank answers its own share (no repeats), shares are
    gathered and scored once. Metrics are logged as ``<stage>/<task>/<lang>/<metric>``,
    every prediction is written to ``<run dir>/predictions/<stage>-step<N>/<set>.jsonl``,
    and the latest scores to ``<run dir>/results.json`` (read by ``python -m selftt report``).
    """

    def __init__(
        self,
        enabled: bool = True,
        max_examples: int | None = None,
        before_fit: bool = False,
        at_fit_end: bool = True,
        method: str | None = None,
        log_samples: int = 8,
    ) -> None:
        """
        Args:
            enabled: Evaluate by generation (off: validation reports the loss only).
            max_examples: Score only the first N examples of each set, for quick checks.
            before_fit: Also evaluate the untrained model when training starts (step 0).
            at_fit_end: Evaluate once more at the end of fit unless the last validation was at the last step.
            method: Label of this run in the report ('fewshot', 'zero-shot', 'stt', 'stt+cs',
                'translate-train', ...); default: from the training components.
            log_samples: Predictions per set shown as a text table in TensorBoard.
        """
        check_range("evaluation.max_examples", max_examples)
        check_range("evaluation.log_samples", log_samples)
        self.enabled = enabled
        self.max_examples = max_examples
        self.before_fit = before_fit
        self.at_fit_end = at_fit_end
        self.method = method
        self.log_samples = log_samples
        self.last_step: int | None = None
        self.metrics: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ hooks
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.enabled and self.before_fit:
            self._evaluate(trainer, pl_module, "val", tag="before", write_results=False)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.enabled and not trainer.sanity_checking:
            self._evaluate(trainer, pl_module, "val", log_with_module=True)

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.enabled:
            self._evaluate(trainer, pl_module, "test", log_with_module=True)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if (
            self.enabled
            and self.at_fit_end
            and trainer.global_step > 0
            and self.last_step != trainer.global_step
        ):
            self._evaluate(trainer, pl_module, "val")

    # ------------------------------------------------------------------ work
    def _evaluate(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        stage: str,
        tag: str | None = None,
        log_with_module: bool = False,
        write_results: bool = True,
    ) -> None:
        datamodule = trainer.datamodule
        sets: list[LoadedEvalSet] = datamodule.generation_eval_sets(stage)
        if not sets:
            return
        dist = Distributed.from_trainer(trainer)
        task = datamodule.task
        tag = tag or f"{stage}-step{evaluated_step(trainer)}"
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)  # on every rank: log_dir broadcasts
        folder = run_dir / "predictions" / tag
        keys = _metric_prefixes(task.name, sets, stage)
        metrics: dict[str, dict[str, Any]] = {}
        for eval_set in sets:
            records = self._answer(pl_module, datamodule, eval_set, dist)
            values = task.checked_score([r["answer"] for r in records], [r["gold"] for r in records], eval_set.lang)
            predictions = (folder / f"{eval_set.name}.jsonl").relative_to(run_dir).as_posix()
            metrics[eval_set.name] = {"lang": eval_set.lang, "n": len(records), **values, "predictions": predictions}
            flat = {f"{keys[eval_set.name]}/{name}": value for name, value in values.items()}
            if log_with_module:
                for name, value in flat.items():
                    pl_module.log(name, float(value), add_dataloader_idx=False)
            elif dist.is_main:  # outside the loops (before training, at fit end): straight to the loggers
                for logger in trainer.loggers:
                    logger.log_metrics(flat, step=trainer.global_step)
            if dist.is_main:
                write_jsonl_atomic(folder / f"{eval_set.name}.jsonl", records)
                self._log_samples(trainer, f"{keys[eval_set.name]}/samples", records)
                rank_zero_info(
                    f"selftt: {tag} {eval_set.name} ({task.name}, {eval_set.lang}, {len(records)} examples): "
                    + ", ".join(f"{k} {v:.2f}" for k, v in values.items())
                    + f"; predictions: {folder / (eval_set.name + '.jsonl')}"
                )
        self.metrics = metrics
        self.last_step = trainer.global_step
        if write_results and dist.is_main:
            results = build_results(
                trainer,
                pl_module,
                run_dir,
                stage_name(trainer, stage),
                self.method_label(trainer),
                metrics,
                self.max_examples,
            )
            write_json_atomic(run_dir / RESULTS_FILE, results)

    def method_label(self, trainer: Trainer) -> str:
        return self.method or method_of(trainer)

    def _answer(
        self, pl_module, datamodule, eval_set: LoadedEvalSet, dist: Distributed
    ) -> list[dict[str, Any]]:
        """This rank's share answered, then everyone's gathered in the set's order."""
        task = datamodule.task
        examples = eval_set.examples[: self.max_examples] if self.max_examples else eval_set.examples
        mine = examples[dist.rank :: dist.world_size]
        prompts = [datamodule.eval_prompt(example, eval_set.shots) for example in mine]
        generations = pl_module.generator().generate(
            prompts,
            stop=datamodule.formatter.stop_strings(),
            max_new_tokens=eval_set.max_new_tokens,
            add_special_tokens=datamodule.formatter.add_special_tokens,
            progress=dist.is_main,
            desc=f"evaluating {eval_set.name}",
        )
        records = []
        for example, prompt, generation in zip(mine, prompts, generations, strict=True):
            answer = task.parse_answer(generation, eval_set.lang)
            gold = example[task.gold_field]
            correct = task.is_correct(answer, gold, eval_set.lang)
            record = {
                "id": example["id"],
                "prompt": prompt,
                "generation": generation,
                "answer": answer,
                "gold": gold,
                "correct": correct,
            }
            passage = task.passage_of(example)
            records.append(record if passage is None else {**record, "passage": passage})
        order = {example["id"]: i for i, example in enumerate(examples)}
        seen: dict[str, dict[str, Any]] = {}
        for part in dist.gather(records):
            for record in part:
                seen.setdefault(record["id"], record)
        return sorted(seen.values(), key=lambda r: order[r["id"]])

    def _log_samples(self, trainer: Trainer, tag: str, records: list[dict[str, Any]]) -> None:
        if not self.log_samples:
            return
        rows = ["| id | answer | gold | correct | generation |", "|---|---|---|---|---|"]
        for r in records[: self.log_samples]:
            generation = str(r["generation"]).replace("\n", " ").replace("|", "/")[:300]
            rows.append(f"| {r['id']} | {r['answer']} | {r['gold']} | {r['correct']} | {generation} |")
        log_markdown(trainer.loggers, tag, "\n".join(rows), trainer.global_step)


def _metric_prefixes(task: str, sets: list[LoadedEvalSet], stage: str) -> dict[str, str]:
    """``<stage>/<task>/<lang>``, or ``<stage>/<task>/<lang>-<set>`` where two sets share a language."""
    langs = [s.lang for s in sets]
    return {
        s.name: f"{stage}/{task}/{s.lang}"
        if langs.count(s.lang) == 1
        else f"{stage}/{task}/{s.lang}-{s.name}"
        for s in sets
    }


def stage_name(trainer: Trainer, stage: str) -> str:
    """'fit', 'validate' or 'test': what produced the numbers."""
    if stage == "test":
        return "test"
    return "fit" if trainer.state.fn == "fit" else "validate"
