"""The GPU check: QLoRA and bf16 LoRA training through ``python -m selftt fit`` against the
Hugging Face Trainer + peft, batched generation against HF ``generate``, and correctness, on
random-initialised models of real shapes, within a time budget. ``scripts/device_check.sh``
runs it on the GPU host; the CPU test suite runs it with the tiny shape.

Jobs run in priority order, each in fresh processes; a job that fails is recorded with its error
and the others go on; a job that would not finish inside ``--budget-s`` is skipped and recorded.
``device_check.json`` and ``device_check.md`` in ``--out`` are rewritten after every job, so a
run cut short still leaves what it measured.

    python benchmarks/device_check.py --out benchmarks/results/h200-2026-11-30
    python benchmarks/device_check.py --out /tmp/dc --device cpu --shapes tiny --steps 3   # smoke
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import device_models  # noqa: E402
import device_report  # noqa: E402
from device_train import MODES, TrainSettings, child_env, run_hf, run_selftt, tail  # noqa: E402

NAME = "device_check"
BIG = {"llama-3-8b"}
"""Shapes whose jobs take minutes (16 GB of weights to write and load several times)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for device_check.json/.md and logs")
    p.add_argument("--work", type=Path, default=Path("/tmp/selftt-device-check"), help="models and runs")
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument(
        "--shapes",
        nargs="+",
        default=["llama-3.2-1b", "gemma-3-270m", "llama-3-8b"],
        choices=sorted(device_models.SHAPES),
    )
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup-steps", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--gen-prompts", type=int, default=24)
    p.add_argument("--gen-new-tokens", type=int, default=32)
    p.add_argument("--budget-s", type=float, default=480, help="start no job that would end after this")
    p.add_argument("--skip-hf", action="store_true", help="train through selftt only (no HF Trainer run)")
    p.add_argument(
        "--only",
        nargs="+",
        metavar="KIND:SHAPE[:MODE]",
        help="run only these jobs, e.g. train:llama-3.2-1b:qlora generate:gemma-3-270m",
    )
    return p.parse_args(argv)


# ---------------------------------------------------------------------------- environment
def environment(device: str) -> dict:
    import lightning
    import torch

    env = {
        **_common.environment(torch.get_num_threads()),
        "lightning": lightning.__version__,
        "device": device,
    }
    for name in ("bitsandbytes", "peft", "jsonargparse", "datasets"):
        try:
            env[name] = __import__(name).__version__
        except Exception as err:  # noqa: BLE001 - record why a package is unusable
            env[name] = f"unavailable ({type(err).__name__}: {str(err)[:120]})"
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = torch.cuda.get_device_name(0)
        env["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        env["cuda"] = torch.version.cuda
        env["bf16_matmul_tflops"] = matmul_tflops()
        try:
            smi = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            env["driver"] = smi.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            env["driver"] = "unknown"
    return env


def matmul_tflops(n: int = 8192, repeats: int = 10) -> float:
    """Measured bf16 matrix-multiply rate (n x n x n, after 3 warm-ups): what this GPU reaches."""
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return round(2 * n**3 * repeats / (time.perf_counter() - start) / 1e12, 1)


# ---------------------------------------------------------------------------- jobs
def plan(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(kind, shape, mode) in priority order: every shape's first mode (QLoRA) with the first
    shape's generation after its training, then the first shape's other modes, the other shapes'
    generation, and their other modes."""
    first, *rest = args.shapes
    modes = [m for m in MODES if m in args.modes]
    jobs = [("train", first, m) for m in modes[:1]] + [("generate", first, "")]
    jobs += [("train", shape, m) for shape in rest for m in modes[:1]]
    jobs += [("train", first, m) for m in modes[1:]]
    jobs += [("generate", shape, "") for shape in rest]
    jobs += [("train", shape, m) for shape in rest for m in modes[1:]]
    if args.only:
        wanted = {tuple((label.split(":") + [""])[:3]) for label in args.only}
        jobs = [job for job in jobs if job in wanted]
    return jobs


def seconds_needed(kind: str, shape: str) -> float:
    """A job's planned duration on an H200 (three processes per training job, one per generation)."""
    if shape in BIG:
        return 200 if kind == "train" else 90
    return 60 if kind == "train" else 40


def train_job(args, settings: TrainSettings, model_dir: str, shape: str, mode: str, timeout) -> dict:
    run_root = args.work / "runs" / f"{shape}-{mode}"
    result: dict = {"shape": shape, "mode": mode}
    paths = (("selftt", run_selftt),) if args.skip_hf else (("selftt", run_selftt), ("hf", run_hf))
    for path, runner in paths:
        try:
            result[path] = runner(model_dir, mode, settings, run_root / path, timeout())
        except Exception as err:  # noqa: BLE001 - record and go on with the other path
            result[path] = {"error": one_line(err)}
    selftt = result["selftt"]
    if "error" not in selftt:
        result["checks"] = training_checks(selftt)
        try:
            result["checks"]["reload"] = reload_check(
                model_dir, selftt, mode, settings.device, run_root, timeout()
            )
        except Exception as err:  # noqa: BLE001
            result["checks"]["reload"] = {"error": one_line(err)}
    return result


def training_checks(run: dict) -> dict:
    """The loss falls, the adapters get gradients, evaluation ran."""
    steps = run["steps"]
    k = max(1, min(2, len(steps) // 2))
    first = sum(s["loss"] for s in steps[:k]) / k
    last = sum(s["loss"] for s in steps[-k:]) / k
    final = steps[-1]
    evaluation = run.get("evaluation") or {}
    metrics = {key: value for key, value in flatten(evaluation).items() if "demo_qa_de" in key}
    return {
        "loss_falls": {"first_steps_mean": first, "last_steps_mean": last, "pass": last < first},
        "adapter_gradients": {
            "tensors_with_nonzero_finite_grad": final.get("params_with_grad"),
            "trainable_tensors": final.get("trainable_tensors"),
            "grad_norm": final.get("grad_norm"),
            "pass": bool(final.get("trainable_tensors"))
            and final.get("params_with_grad") == final.get("trainable_tensors"),
        },
        "evaluation_ran": {"metrics": metrics, "pass": bool(metrics)},
    }


def flatten(data, prefix: str = "") -> dict:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict = {}
    for key, value in data.items():
        out.update(flatten(value, f"{prefix}/{key}" if prefix else str(key)))
    return out


def run_script(script: str, args: list[str], timeout: float, log: Path | None = None) -> None:
    """``python benchmarks/<script> ARGS`` in a fresh process; its output to ``log``; a
    RuntimeError with the end of its stderr when it fails."""
    cmd = [sys.executable, str(Path(__file__).resolve().parent / script), *args]
    proc = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=timeout)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited {proc.returncode}: {tail(proc.stderr)}")


def reload_check(model_dir: str, run: dict, mode: str, device: str, run_root: Path, timeout: float) -> dict:
    out = run_root / "reload.json"
    args = ["--model", model_dir, "--adapter", run["adapter"], "--probe", run["probe"], "--mode", mode]
    run_script(
        "device_probe.py", [*args, "--device", device, "--out", str(out)], timeout, run_root / "reload.log"
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    # In the training process the exported adapter must give the very same logits. A fresh
    # process (selftt's load path, plain PEFT) is reported too: there bf16 kernels may round
    # differently (run 1 on the H200: 1-2 bf16 ulps of the largest logit), so it is not the test.
    result["pass"] = result["in_process_reload"]["max_abs_diff"] == 0.0
    return result


def generate_job(args, model_dir: str, shape: str, timeout: float) -> dict:
    out = args.work / "runs" / f"{shape}-generation"
    gpu = args.device.startswith("cuda")
    options = [
        "--model",
        model_dir,
        "-n",
        str(args.gen_prompts),
        "--max-new-tokens",
        str(args.gen_new_tokens),
    ]
    options += ["--device", args.device, "--dtype", "bfloat16" if gpu else "float32", "--no-breakdown"]
    options += ["--threads", "4" if gpu else "1", "--out", str(out)]
    run_script("generation.py", options, timeout, out / "generation.log")
    result = json.loads((out / "generation.json").read_text(encoding="utf-8"))
    result.pop("outputs", None)
    result.pop("environment", None)
    return {"shape": shape, **result}


def one_line(err: BaseException) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text[:600]


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    args.work.mkdir(parents=True, exist_ok=True)
    settings = TrainSettings(
        device=args.device,
        steps=args.steps,
        warmup_steps=args.warmup_steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
    )
    result: dict = {
        "benchmark": NAME,
        "environment": environment(args.device),
        "settings": asdict(settings),
        "budget_s": args.budget_s,
        "models": {},
        "training": [],
        "generation": [],
        "skipped": [],
    }
    result["settings"].update(
        dtype=settings.dtype, gen_prompts=args.gen_prompts, gen_new_tokens=args.gen_new_tokens
    )

    def left() -> float:
        return args.budget_s - (time.perf_counter() - start)

    def save() -> None:
        result["elapsed_s"] = time.perf_counter() - start
        _common.save(args.out, NAME, result, device_report.markdown(result))

    save()
    for kind, shape, mode in plan(args):
        need = seconds_needed(kind, shape)
        label = f"{kind} {shape} {mode}".strip()
        if left() < need:
            result["skipped"].append(f"{label}: {left():.0f} s of the budget left, about {need} s needed")
            save()
            continue
        print(f"[{time.perf_counter() - start:5.0f} s] {label}", flush=True)
        try:
            if shape not in result["models"]:
                dtype = "bfloat16" if args.device.startswith("cuda") else "float32"
                result["models"][shape] = device_models.build_model_folder(
                    shape, args.work / "models", args.device, dtype
                )
            model_dir = result["models"][shape]["path"]
            if kind == "train":
                result["training"].append(
                    train_job(args, settings, model_dir, shape, mode, lambda: max(30.0, left()))
                )
            else:
                result["generation"].append(generate_job(args, model_dir, shape, max(30.0, left())))
        except Exception as err:  # noqa: BLE001 - one broken job must not cost the others
            traceback.print_exc()
            (result["training"] if kind == "train" else result["generation"]).append(
                {"shape": shape, "mode": mode, "error": one_line(err)}
            )
        save()
    save()
    print("\n".join(device_report.markdown(result)))
    return result


if __name__ == "__main__":
    main()
