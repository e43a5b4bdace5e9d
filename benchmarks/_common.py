"""Shared helpers of the benchmark scripts: threads, machine description, JSON + Markdown output.

Import this module before torch: ``set_threads`` must set ``OMP_NUM_THREADS`` before torch starts
its thread pool.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_THREADS = 2


def set_threads(threads: int) -> None:
    """Pin the CPU thread count (environment for this process and its children, and torch)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    import torch

    torch.set_num_threads(threads)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(threads: int) -> dict:
    """Where and with what the numbers were measured."""
    import peft
    import torch
    import transformers

    return {
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "omp_num_threads": threads,
        "torch_num_threads": torch.get_num_threads(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "LD_PRELOAD"))},
    }


def environment_markdown(env: dict) -> list[str]:
    malloc = " ".join(f"{k}={v}" for k, v in env.get("malloc_env", {}).items())
    return [
        f"- command: `{malloc + ' ' if malloc else ''}{env['command']}`",
        f"- date: {env['date_utc']}",
        f"- machine: {env['nproc']} CPUs (`nproc`), {env['cpu_model']}",
        f"- threads: OMP_NUM_THREADS={env['omp_num_threads']} (torch uses {env['torch_num_threads']}); "
        f"load average at start {env.get('loadavg_at_start')}",
        f"- versions: python {env['python']}, torch {env['torch']}, transformers {env['transformers']}, "
        f"peft {env['peft']}" + (f", lightning {env['lightning']}" if env.get("lightning") else ""),
    ]


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def save(out_dir: Path, name: str, result: dict, markdown: list[str]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}.json"
    md_path = out_dir / f"{name}.md"
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text("\n".join(markdown) + "\n", encoding="utf-8")
    return json_path, md_path
