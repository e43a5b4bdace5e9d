"""Generation-based evaluation: scores, logged keys, predictions, results.json, few-shot, DDP."""

from __future__ import annotations

import json
from functools import partial

import pytest
import torch
from lightning.pytorch import Trainer

from selftt.datamodules.components import DataComponent, EvalSet
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.evaluation.callback import GenerationEvaluation
from selftt.modules import LoraSettings, SelfTTModule
from selftt.modules.generation import GenerationSettings


@pytest.fixture
def evaluated(tiny_model, math_file, mgsm_file, tmp_path):
    def run(fewshot=0, max_examples=None, **trainer_kwargs):
        module = SelfTTModule(
            tiny_model,
            quantization="none",
            lora=LoraSettings(r=4, alpha=8, dropout=0.0),
            generation=GenerationSettings(max_new_tokens=6),
            optimizer=partial(torch.optim.AdamW, lr=1e-2),
        )
        data = SelfTTDataModule(
            task="math",
            components=[DataComponent(path=str(math_file), lang="en")],
            val_sets=[EvalSet(path=str(mgsm_file), lang="de", fewshot=fewshot)],
            val_holdout=4,
            tokenizer=tiny_model,
            batch_size=4,
            max_length=256,
        )
        evaluation = GenerationEvaluation(max_examples=max_examples)
        trainer = Trainer(
            accelerator="cpu",
            max_steps=2,
            val_check_interval=2,
            check_val_every_n_epoch=None,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            default_root_dir=tmp_path,
            callbacks=[evaluation],
            **trainer_kwargs,
        )
        trainer.fit(module, datamodule=data)
        return trainer, module, data, evaluation

    return run


def test_fit_scores_every_set_by_generation_and_writes_predictions_and_results(evaluated, tmp_path):
    trainer, _, _, evaluation = evaluated()
    for key in ("val/math/de/accuracy", "val/math/de/unparsed", "val/math/en/accuracy"):
        assert key in trainer.callback_metrics, key
    assert evaluation.metrics["mgsm_de"]["n"] == 5 and evaluation.metrics["heldout_en"]["n"] == 4
    records = [json.loads(line) for line in (tmp_path / "predictions" / "val-step2" / "mgsm_de.jsonl").open()]
    assert [r["id"] for r in records] == [f"mgsm_de-{i}" for i in range(1, 6)]
    assert {"id", "prompt", "generation", "answer", "gold", "correct"} <= set(records[0])
    assert records[0]["gold"] == "7" and "Anna hat 3 Äpfel" in records[0]["prompt"]
    accuracy = 100 * sum(r["correct"] for r in records) / len(records)
    assert trainer.callback_metrics["val/math/de/accuracy"].item() == pytest.approx(accuracy)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["method"] == "zero-shot" and results["task"] == "math" and results["step"] == 2
    assert results["metrics"]["mgsm_de"]["lang"] == "de" and results["primary_metric"] == "accuracy"


def test_fewshot_examples_are_in_the_prompt_and_not_scored(evaluated, tmp_path):
    _, _, data, evaluation = evaluated(fewshot=2)
    assert evaluation.metrics["mgsm_de"]["n"] == 3
    records = [json.loads(line) for line in (tmp_path / "predictions" / "val-step2" / "mgsm_de.jsonl").open()]
    assert [r["id"] for r in records] == ["mgsm_de-3", "mgsm_de-4", "mgsm_de-5"]
    prompt = records[0]["prompt"]
    assert prompt.count("### Instruction:") == 3
    assert "Anna hat 3 Äpfel" in prompt and "Die Antwort lautet 7." in prompt


def test_max_examples_limits_each_set(evaluated):
    _, _, _, evaluation = evaluated(max_examples=2)
    assert {m["n"] for m in evaluation.metrics.values()} == {2}


@pytest.mark.slow
def test_two_process_validation_scores_each_example_exactly_once(
    tmp_path, mgsm_file, write_config, run_selftt
):
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], strategy="ddp", devices=2)
    result = run_selftt(["validate", "--config", str(config)], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "logs" / "run" / "version_0"
    ids = [json.loads(line)["id"] for line in (run / "predictions" / "val-step0" / "mgsm_de.jsonl").open()]
    assert ids == [f"mgsm_de-{i}" for i in range(1, 6)], "5 examples over 2 ranks: none repeated, none lost"
    results = json.loads((run / "results.json").read_text())
    assert results["stage"] == "validate" and results["metrics"]["mgsm_de"]["n"] == 5
    assert results["method"] == "base"


@pytest.mark.slow
def test_validating_a_checkpoint_records_its_method_step_and_path(tmp_path, mgsm_file, write_config, run_selftt):
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], max_steps=2, val_check_interval=2)
    assert run_selftt(["fit", "--config", str(config)], cwd=tmp_path).returncode == 0
    ckpt = next((tmp_path / "logs").rglob("last.ckpt"))
    result = run_selftt(["validate", "--config", str(config), "--ckpt_path", str(ckpt)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "logs" / "run" / "version_1"
    results = json.loads((run / "results.json").read_text())
    assert results["stage"] == "validate" and results["method"] == "zero-shot"  # trained on src: not 'base'
    assert results["step"] == 2 and results["checkpoint"] == str(ckpt)
    assert (run / "predictions" / "val-step2" / "mgsm_de.jsonl").is_file()


def _squad(path, contexts: list[str]) -> str:
    paragraphs = [
        {"context": context, "qas": [
            {"id": f"p{p}q{q}", "question": f"Frage {q}?",
             "answers": [{"text": context.split()[q], "answer_start": context.index(context.split()[q])}]}
            for q in range(2)
        ]}
        for p, context in enumerate(contexts)
    ]  # fmt: skip
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}), encoding="utf-8")
    return str(path)


def test_qa_predictions_record_each_questions_passage(tiny_model, tmp_path):
    """Questions on one context share its ``passage`` digest (the report's by-passage test groups by it)."""
    contexts = ["Berlin ist die Hauptstadt Deutschlands.", "Paris liegt an der Seine in Frankreich."]
    module = SelfTTModule(
        tiny_model, quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0),
        generation=GenerationSettings(max_new_tokens=4),
    )  # fmt: skip
    data = SelfTTDataModule(
        task="qa",
        components=[DataComponent(path=_squad(tmp_path / "train.json", contexts), lang="de")],
        val_sets=[EvalSet(path=_squad(tmp_path / "eval.json", contexts), lang="de", name="xq")],
        tokenizer=tiny_model,
        batch_size=2,
        max_length=256,
    )
    trainer = Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
        default_root_dir=tmp_path, callbacks=[GenerationEvaluation()],
    )  # fmt: skip
    trainer.validate(module, datamodule=data)
    records = [json.loads(line) for line in next(tmp_path.glob("predictions/*/xq.jsonl")).open()]
    passages = [r["passage"] for r in records]
    assert [r["id"] for r in records] == ["p0q0", "p0q1", "p1q0", "p1q1"]
    assert passages[0] == passages[1] != passages[2] == passages[3]
    assert len(passages[0]) == 16 and all(c in "0123456789abcdef" for c in passages[0])
