"""selftt ``fit`` vs the usual Hugging Face path (transformers ``Trainer`` + a peft LoRA model).

Both train the same model on the same encoded examples (the demo QA training set, tokenized by
selftt's ``SelfTTDataModule.setup("fit")``), with the same LoRA (r=16, alpha=32, dropout 0,
all-linear), the same optimizer (torch AdamW, lr 3e-4, no weight decay, constant learning rate,
no gradient clipping), batch size 8 and the same number of steps, in float32 on CPU, without
evaluation, checkpoints, loggers or progress bars. The batches differ by design: selftt groups
examples of similar length (its ``LengthGroupedSampler``); the HF Trainer's default samples at
random (``train_sampling_strategy='random'``, "the usual path"); an extra row runs it with
``group_by_length``. Each path runs alone in a fresh subprocess of this script, so that its peak
RSS (``resource.getrusage``) is its own. Run::

    python benchmarks/training.py                        # Gemma 3 270M, 20 steps
    python benchmarks/training.py --model tests/assets/tiny-llama --steps 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from training_report import report  # noqa: E402

NAME = "training"
PATHS = {
    "selftt": "selftt fit (Lightning, length-grouped batches)",
    "hf": "HF Trainer + peft (default random sampler)",
    "hf_grouped": "HF Trainer + peft, group_by_length",
}
LAST_STEPS_FOR_LOSS = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pypi://gemma3-270m", help="pypi:// name, HF id or local folder")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--max-length", type=int, default=512, help="data.max_length (demo: 512)")
    p.add_argument("--data", default=str(_common.REPO / "selftt/assets/demo/qa_train_en.json"))
    p.add_argument("--no-grouped", action="store_true", help="skip the extra HF group_by_length row")
    p.add_argument("--threads", type=int, default=_common.DEFAULT_THREADS, help="OMP_NUM_THREADS")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1, help="run every path this often (round robin); medians")
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per path")
    p.add_argument("--out", type=Path, default=_common.DEFAULT_OUT, help="folder for the JSON + Markdown")
    # internal: run one path in this (fresh) process
    p.add_argument("--child", choices=sorted(PATHS), help=argparse.SUPPRESS)
    p.add_argument("--encoded", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--child-result", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------- measuring
def rss_mb() -> tuple[float, float]:
    """(current RSS, RSS high-water mark) of this process in MiB."""
    now = peak = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return now, peak


class StepLog:
    """Tokens, loss and end time of every optimizer step (filled by the framework hooks)."""

    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.slots: list[int] = []
        self.shapes: list[list[int]] = []
        self.losses: list[float] = []
        self.ends: list[float] = []
        self.hwm: list[float] = []

    def step_end(self, loss: float | None = None) -> None:
        if loss is not None:
            self.losses.append(loss)
        self.ends.append(time.perf_counter())
        self.hwm.append(rss_mb()[1])

    def batch(self, attention_mask) -> None:
        self.tokens.append(int(attention_mask.sum()))
        self.slots.append(int(attention_mask.numel()))
        self.shapes.append(list(attention_mask.shape))

    def summary(self, start: float, wall: float) -> dict:
        n = len(self.ends)
        steady_s = self.ends[-1] - self.ends[0] if n > 1 else float("nan")
        last = self.losses[-LAST_STEPS_FOR_LOSS:]
        return {
            "steps": n,
            "train_wall_s": wall,
            "first_step_s": self.ends[0] - start if n else float("nan"),
            "nonpad_tokens": sum(self.tokens),
            "padded_tokens": sum(self.slots),
            "padding_fraction": 1 - sum(self.tokens) / max(1, sum(self.slots)),
            "tokens_per_s": sum(self.tokens) / wall,
            "steady_tokens_per_s": sum(self.tokens[1:]) / steady_s if n > 1 else float("nan"),
            "final_loss": sum(last) / len(last) if last else float("nan"),
            "step_losses": self.losses,
            "step_tokens": self.tokens,
            "step_shapes": self.shapes,
            "step_seconds": [b - a for a, b in zip([start, *self.ends[:-1]], self.ends, strict=True)],
            "step_peak_rss_mb": self.hwm,
        }


# ---------------------------------------------------------------------------- the paths (children)
def child_selftt(args, encoded: dict) -> dict:
    import torch
    from lightning.pytorch import Callback, seed_everything

    from selftt.datamodules.components import DataComponent
    from selftt.datamodules.datamodule import SelfTTDataModule
    from selftt.modules.causal_lm import SelfTTModule
    from selftt.modules.lora import LoraSettings
    from selftt.training.trainer import SelfTTTrainer

    log = StepLog()

    class Record(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            log.batch(batch["attention_mask"])

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            log.step_end(float(outputs["loss"]))

    lr = args.lr
    seed_everything(args.seed, verbose=False)
    module = SelfTTModule(
        model_name_or_path=args.model,
        quantization="none",
        dtype="float32",
        lora=LoraSettings(r=16, alpha=32, dropout=0.0, target_modules="all-linear"),
        optimizer=lambda params: torch.optim.AdamW(params, lr=lr, weight_decay=0.0),
    )
    datamodule = SelfTTDataModule(
        task="qa",
        components=[DataComponent(name="src", path=args.data, lang="en")],
        tokenizer=args.model,
        max_length=args.max_length,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    module.configure_model()  # load the model before timing (fit would do it otherwise)
    trainer = SelfTTTrainer(
        accelerator="cpu",
        devices=1,
        precision="32-true",
        max_steps=args.steps,
        max_epochs=-1,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[Record()],
    )
    rss_before, hwm_before = rss_mb()
    start = time.perf_counter()
    trainer.fit(module, datamodule=datamodule)
    wall = time.perf_counter() - start
    same = [(d["input_ids"], d["labels"]) for d in datamodule.train_data] == [
        (d["input_ids"], d["labels"]) for d in encoded["train"]
    ]
    return {
        **log.summary(start, wall),
        "rss_before_train_mb": rss_before,
        "peak_before_train_mb": hwm_before,
        "same_data_as_hf": same,
        "trainable_params": sum(p.numel() for p in module.parameters() if p.requires_grad),
        "optimizer": f"torch.optim.AdamW (lr {lr:g}, weight_decay 0), constant lr, no clipping",
    }


def drop_gguf_quantization_config(config) -> bool:
    """Forget a ``quantization_config`` of method GGUF that a converted folder kept in its config.

    ``pypi://`` models are dequantized to float32 safetensors, but their config.json still names
    the GGUF they came from; transformers then attaches a GGUF quantizer (the layers are plain
    float32 ``nn.Linear``) and the HF ``Trainer`` refuses to train "a GGUF-quantized model".
    Loading without it gives the same weights and modules.
    """
    quant = getattr(config, "quantization_config", None)
    method = quant.get("quant_method") if isinstance(quant, dict) else getattr(quant, "quant_method", None)
    if str(getattr(method, "value", method)).lower() != "gguf":
        return False
    del config.quantization_config
    return True


def child_hf(args, encoded: dict, grouped: bool) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    from selftt.datamodules.tokenization import PadCollator  # a plain module: no Lightning import

    log = StepLog()

    class RecordingTrainer(Trainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            log.batch(inputs["attention_mask"])
            loss = super().training_step(model, inputs, num_items_in_batch)
            log.losses.append(float(loss))
            return loss

    class StepEnd(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            log.step_end()

    config = AutoConfig.from_pretrained(encoded["model_path"])
    dropped_gguf_config = drop_gguf_quantization_config(config)
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(encoded["model_path"], config=config, dtype=torch.float32)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        training_args = TrainingArguments(
            output_dir=tmp,
            max_steps=args.steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.lr,
            weight_decay=0.0,
            optim="adamw_torch",
            lr_scheduler_type="constant",
            warmup_steps=0,
            max_grad_norm=0.0,
            use_cpu=True,
            bf16=False,
            fp16=False,
            report_to="none",
            disable_tqdm=True,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            dataloader_pin_memory=False,
            remove_unused_columns=False,
            train_sampling_strategy="group_by_length" if grouped else "random",
            seed=args.seed,
        )
        trainer = RecordingTrainer(
            model=model,
            args=training_args,
            train_dataset=encoded["train"],
            data_collator=PadCollator(encoded["pad_token_id"]),
            callbacks=[StepEnd()],
        )
        rss_before, hwm_before = rss_mb()
        start = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - start
    return {
        **log.summary(start, wall),
        "rss_before_train_mb": rss_before,
        "peak_before_train_mb": hwm_before,
        "same_data_as_hf": True,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "optimizer": f"{training_args.optim} (lr {args.lr:g}, weight_decay 0), constant lr, no clipping",
        "lightning_imported": "lightning" in sys.modules,
        "dropped_gguf_quantization_config": dropped_gguf_config,
    }


def run_child(args) -> None:
    _common.set_threads(args.threads)
    warnings.filterwarnings("ignore")
    encoded = json.loads(args.encoded.read_text(encoding="utf-8"))
    if args.child == "selftt":
        result = child_selftt(args, encoded)
    else:
        result = child_hf(args, encoded, grouped=args.child == "hf_grouped")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    args.child_result.write_text(json.dumps(result), encoding="utf-8")


# ---------------------------------------------------------------------------- parent
def run_path(args, argv, path: str, data_file: Path, tmp: Path, repeat: int) -> dict:
    """One path in a fresh subprocess of this script; its result."""
    result_file = tmp / f"{path}-{repeat}.json"
    forward = sys.argv[1:] if argv is None else argv
    cmd = [sys.executable, str(Path(__file__).resolve()), *forward]
    cmd += ["--child", path, "--encoded", str(data_file), "--child-result", str(result_file)]
    print(f"  [{repeat + 1}/{args.repeats}] running {PATHS[path]} ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, timeout=args.timeout, env={**os.environ}, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"the {path} path failed (exit {proc.returncode})")
    r = json.loads(result_file.read_text(encoding="utf-8"))
    print(
        f"    {r['tokens_per_s']:.1f} tokens/s, peak RSS {r['peak_rss_mb']:.0f} MiB, final loss "
        f"{r['final_loss']:.4f} (process {time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return r


def summarize_runs(path: str, path_runs: list[dict]) -> dict:
    """The median run's numbers (by tokens/s), the median peak RSS, and every run's headline numbers."""
    ordered = sorted(path_runs, key=lambda r: r["tokens_per_s"])
    result = {"label": PATHS[path], **ordered[(len(ordered) - 1) // 2]}
    result["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in path_runs)
    result["steady_tokens_per_s"] = statistics.median(r["steady_tokens_per_s"] for r in path_runs)
    result["runs"] = [
        {
            k: r[k]
            for k in ("tokens_per_s", "steady_tokens_per_s", "peak_rss_mb", "train_wall_s", "final_loss")
        }
        for r in path_runs
    ]
    return result


def encode_data(args) -> dict:
    """The training examples as selftt encodes them (the same list goes to every path)."""
    from selftt.datamodules.components import DataComponent
    from selftt.datamodules.datamodule import SelfTTDataModule
    from selftt.modules.packaged_models import resolve_model_path

    datamodule = SelfTTDataModule(
        task="qa",
        components=[DataComponent(name="src", path=args.data, lang="en")],
        tokenizer=args.model,
        max_length=args.max_length,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    datamodule.setup("fit")
    train = [{"input_ids": d["input_ids"], "labels": d["labels"]} for d in datamodule.train_data]
    return {
        "model_path": resolve_model_path(args.model),
        "pad_token_id": datamodule.tokenizer.pad_token_id,
        "prompt_style": datamodule.formatter.style,
        "train": train,
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return {}
    _common.set_threads(args.threads)
    import lightning

    env = {**_common.environment(args.threads), "lightning": lightning.__version__}
    encoded = encode_data(args)
    lengths = [len(d["input_ids"]) for d in encoded["train"]]
    print(
        f"{len(lengths)} training examples of {min(lengths)}-{max(lengths)} tokens; {args.steps} steps of "
        f"batch size {args.batch_size}; threads {args.threads}",
        flush=True,
    )
    paths = [p for p in PATHS if not (p == "hf_grouped" and args.no_grouped)]
    runs: dict[str, list[dict]] = {path: [] for path in paths}
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "encoded.json"
        data_file.write_text(json.dumps(encoded), encoding="utf-8")
        for repeat in range(args.repeats):  # round robin, each round starting one path later:
            shift = repeat % len(paths)  # a machine that drifts slower or faster hits every path alike
            for path in paths[shift:] + paths[:shift]:
                runs[path].append(run_path(args, argv, path, data_file, Path(tmp), repeat))
    results = {path: summarize_runs(path, path_runs) for path, path_runs in runs.items()}

    base = results["selftt"]
    for r in results.values():
        r["speed_ratio_selftt_over_this"] = base["tokens_per_s"] / r["tokens_per_s"]
        r["steady_speed_ratio_selftt_over_this"] = base["steady_tokens_per_s"] / r["steady_tokens_per_s"]
        r["memory_ratio_selftt_over_this"] = base["peak_rss_mb"] / r["peak_rss_mb"]
    hf = results["hf"]
    speed = base["tokens_per_s"] / hf["tokens_per_s"]
    memory = base["peak_rss_mb"] / hf["peak_rss_mb"]
    targets = {
        "speed_selftt_over_hf": {"target": ">= 1.0", "measured": speed, "pass": speed >= 1.0},
        "peak_memory_selftt_over_hf": {"target": "<= 1.0", "measured": memory, "pass": memory <= 1.0},
    }
    result = {
        "benchmark": NAME,
        "environment": env,
        "settings": {
            "model": args.model,
            "model_path": encoded["model_path"],
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "weight_decay": 0.0,
            "lora": {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"},
            "dtype": "float32",
            "device": "cpu",
            "max_length": args.max_length,
            "prompt_style": encoded["prompt_style"],
            "num_examples": len(lengths),
            "example_tokens": {"min": min(lengths), "max": max(lengths), "mean": sum(lengths) / len(lengths)},
            "seed": args.seed,
            "repeats": args.repeats,
            "final_loss": f"mean of the last {LAST_STEPS_FOR_LOSS} steps",
        },
        "paths": results,
        "targets": targets,
    }
    markdown = report(result)
    json_path, md_path = _common.save(args.out, NAME, result, markdown)
    print("\n".join(markdown[2:]))
    print(f"\nwrote {json_path} and {md_path}")
    return result


if __name__ == "__main__":
    main()
