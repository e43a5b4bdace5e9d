"""One training measurement of the device check: selftt's ``python -m selftt fit`` or the usual
Hugging Face path (transformers ``Trainer`` + peft), each in its own fresh process.

Both train the same model on the same examples (the demo QA training set as selftt encodes it)
with the same LoRA (r=16, alpha=32, dropout 0, all-linear), AdamW (constant lr, no weight decay,
no clipping), batch size, number of steps, precision (bf16 autocast on a GPU) and gradient
checkpointing (non-reentrant). Modes: ``qlora`` loads the base in 4-bit NF4 with double
quantization and bf16 compute (``prepare_model_for_kbit_training`` first, as the QLoRA recipe
does); ``lora`` keeps the base in bf16 (float32 on CPU). Both paths measure the same things
(``selftt.training.throughput``): non-padding tokens/s after the warm-up steps, peak memory,
model FLOP utilisation. selftt batches examples of similar length; the HF Trainer samples at
random (its default), so the two pad differently: tokens/s counts non-padding tokens only.

    python benchmarks/device_train.py --child hf --model DIR --mode qlora --out result.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAIN_DATA = REPO / "selftt/assets/demo/qa_train_en.json"
EVAL_DATA = REPO / "selftt/assets/demo/qa_eval_de.json"
MODES = ("qlora", "lora")


@dataclass
class TrainSettings:
    """What every training measurement of one device-check run shares."""

    device: str = "cuda"
    steps: int = 10
    warmup_steps: int = 2
    batch_size: int = 8
    max_length: int = 1024
    lr: float = 1e-3
    seed: int = 0
    eval_limit: int = 8
    eval_new_tokens: int = 16

    @property
    def gpu(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def dtype(self) -> str:
        return "bfloat16" if self.gpu else "float32"


# ---------------------------------------------------------------------------- selftt: python -m selftt fit
def fit_config(model_dir: str, mode: str, s: TrainSettings, run_dir: Path) -> dict:
    """The ``python -m selftt fit`` config of one measurement (a plain dict, written as YAML)."""
    return {
        "seed_everything": s.seed,
        "trainer": {
            "accelerator": "gpu" if s.gpu else "cpu",
            "devices": 1,
            "precision": "bf16-mixed" if s.gpu else "32-true",
            "max_steps": s.steps,
            "max_epochs": -1,
            "val_check_interval": s.steps,  # evaluate once, after the last step
            "check_val_every_n_epoch": None,
            "num_sanity_val_steps": 0,
            "log_every_n_steps": 1,
            "enable_progress_bar": False,
            "default_root_dir": str(run_dir),
            "logger": {
                "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                "init_args": {"save_dir": str(run_dir), "name": "fit", "version": 0},
            },
            "callbacks": [
                {
                    "class_path": "device_probe.ProbeLogits",
                    "init_args": {"output_file": str(run_dir / "probe.safetensors")},
                }
            ],
        },
        "model": {
            "model_name_or_path": model_dir,
            "quantization": "4bit" if mode == "qlora" else "none",
            "dtype": s.dtype,
            "gradient_checkpointing": True,
            "lora": {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"},
            "generation": {"max_new_tokens": s.eval_new_tokens},
            "optimizer": {"class_path": "torch.optim.AdamW", "init_args": {"lr": s.lr, "weight_decay": 0.0}},
        },
        "data": {
            "task": "qa",
            "components": [{"name": "src", "path": str(TRAIN_DATA), "lang": "en"}],
            "val_sets": [{"path": str(EVAL_DATA), "lang": "de", "name": "demo_qa_de", "limit": s.eval_limit}],
            "max_length": s.max_length,
            "batch_size": s.batch_size,
            "seed": s.seed,
        },
        "throughput": {"output_file": "throughput.json", "warmup_steps": s.warmup_steps},
        "evaluation": {"before_fit": False},
    }


def child_env() -> dict:
    """The environment of a measured process: this one's, with ``benchmarks/`` importable (the
    probe callback) and the hub off."""
    here = str(Path(__file__).resolve().parent)
    path = os.pathsep.join(p for p in (here, str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def run_selftt(model_dir: str, mode: str, s: TrainSettings, run_dir: Path, timeout: float) -> dict:
    """``python -m selftt fit`` in a fresh process; its throughput JSON, evaluation results and
    the paths of its adapter and probe logits."""
    import yaml

    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "fit.yaml"
    config.write_text(
        yaml.safe_dump(fit_config(model_dir, mode, s, run_dir), sort_keys=False), encoding="utf-8"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "selftt", "fit", "--config", str(config)],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    (run_dir / "fit.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"selftt fit exited {proc.returncode}: {tail(proc.stderr or proc.stdout)}")
    log_dir = run_dir / "fit" / "version_0"
    result = json.loads((log_dir / "throughput.json").read_text(encoding="utf-8"))
    results_file = log_dir / "results.json"
    result["evaluation"] = (
        json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else None
    )
    result["adapter"] = str(log_dir / "adapter")
    result["probe"] = str(run_dir / "probe.safetensors")
    result["process_s"] = time.perf_counter() - start
    return result


def tail(text: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------------------- the usual path: HF Trainer + peft
def run_hf(model_dir: str, mode: str, s: TrainSettings, run_dir: Path, timeout: float) -> dict:
    """The HF Trainer + peft path in a fresh process of this script; its throughput JSON."""
    run_dir.mkdir(parents=True, exist_ok=True)
    out = run_dir / "throughput.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "hf",
        "--model",
        model_dir,
        "--mode",
        mode,
        "--out",
        str(out),
        "--settings",
        json.dumps(asdict(s)),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=timeout)
    (run_dir / "hf.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"HF Trainer path exited {proc.returncode}: {tail(proc.stderr or proc.stdout)}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process_s"] = time.perf_counter() - start
    return result


def encode(model_dir: str, s: TrainSettings):
    """The training examples exactly as ``selftt fit`` encodes them, and the pad token id."""
    from selftt.datamodules.components import DataComponent
    from selftt.datamodules.datamodule import SelfTTDataModule

    datamodule = SelfTTDataModule(
        task="qa",
        components=[DataComponent(name="src", path=str(TRAIN_DATA), lang="en")],
        tokenizer=model_dir,
        max_length=s.max_length,
        batch_size=s.batch_size,
        seed=s.seed,
    )
    datamodule.setup("fit")
    train = [{"input_ids": d["input_ids"], "labels": d["labels"]} for d in datamodule.train_data]
    return train, datamodule.tokenizer.pad_token_id


def hf_child(model_dir: str, mode: str, s: TrainSettings, out: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import (
        AutoModelForCausalLM,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from selftt.datamodules.tokenization import PadCollator
    from selftt.modules.loading import nf4_config
    from selftt.training.throughput import (
        attention_shape,
        matmul_weights,
        model_flops_per_token,
        peak_flops,
        summarize_steps,
    )

    device = torch.device(s.device)
    dtype = getattr(torch, s.dtype)
    train, pad_id = encode(model_dir, s)
    kwargs: dict = {"dtype": dtype}
    if mode == "qlora":
        kwargs["quantization_config"] = nf4_config(dtype)  # the same settings as selftt's
        kwargs["device_map"] = {"": device}
    torch.manual_seed(s.seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    if mode == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model.to(device)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    frozen, trainable = matmul_weights(model)
    layers, width = attention_shape(model.config)
    steps: list[dict] = []
    current: dict = {}

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    class Recording(Trainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            mask = inputs["attention_mask"]
            current.update(tokens=int(mask.sum()), padded_tokens=int(mask.numel()), seq_len=mask.shape[1])
            loss = super().training_step(model, inputs, num_items_in_batch)
            current["loss"] = float(loss)
            return loss

    class StepTimes(TrainerCallback):
        last = 0.0

        def on_train_begin(self, args, state, control, **kw):
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            sync()
            StepTimes.last = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            sync()
            now = time.perf_counter()
            if device.type == "cuda":
                memory = torch.cuda.max_memory_allocated(device) / 2**20
            else:
                memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            flops = current["tokens"] * model_flops_per_token(
                frozen, trainable, layers, width, current["seq_len"]
            )
            steps.append(
                {
                    **current,
                    "step": state.global_step,
                    "seconds": now - StepTimes.last,
                    "peak_memory_mib": memory,
                    "flops": flops,
                }
            )
            StepTimes.last = now

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            max_steps=s.steps,
            per_device_train_batch_size=s.batch_size,
            learning_rate=s.lr,
            weight_decay=0.0,
            optim="adamw_torch",
            lr_scheduler_type="constant",
            warmup_steps=0,
            max_grad_norm=0.0,
            bf16=s.gpu,
            use_cpu=not s.gpu,
            gradient_checkpointing=True,
            gradient_checkpointing_kwargs={"use_reentrant": False},
            report_to="none",
            disable_tqdm=True,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            remove_unused_columns=False,
            seed=s.seed,
        )
        trainer = Recording(
            model=model,
            args=args,
            train_dataset=train,
            data_collator=PadCollator(pad_id),
            callbacks=[StepTimes()],
        )
        trainer.train()
    shape = {
        "device": str(device),
        "frozen_matmul_weights": frozen,
        "trainable_matmul_weights": trainable,
        "layers": layers,
        "attention_width": width,
        "peak_flops": peak_flops(device),
    }
    summary = summarize_steps(steps, s.warmup_steps, shape["peak_flops"])
    out.write_text(
        json.dumps({"summary": summary, "shape": shape, "steps": steps}, indent=1), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", choices=["hf"], required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--settings", default="{}", help="TrainSettings as JSON")
    args = p.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore")
    hf_child(args.model, args.mode, TrainSettings(**json.loads(args.settings)), args.out)


if __name__ == "__main__":
    main()
