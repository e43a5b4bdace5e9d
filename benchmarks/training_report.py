"""The training benchmark's results as Markdown (``training.md``)."""

from __future__ import annotations

import _common


def report(result: dict) -> list[str]:
    st, paths, t = result["settings"], result["paths"], result["targets"]
    rows = [
        [
            r["label"],
            r["steps"],
            r["nonpad_tokens"],
            f"{100 * r['padding_fraction']:.0f}%",
            f"{r['train_wall_s']:.1f}",
            f"{r['tokens_per_s']:.1f}",
            f"{r['steady_tokens_per_s']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['final_loss']:.4f}",
            f"{r['speed_ratio_selftt_over_this']:.2f}",
            f"{r['memory_ratio_selftt_over_this']:.2f}",
        ]
        for r in paths.values()
    ]
    ex = st["example_tokens"]
    lines = [
        "# Training benchmark",
        "",
        *_common.environment_markdown(result["environment"]),
        f"- model: `{st['model']}` ({st['dtype']}, {st['device']}), LoRA r={st['lora']['r']} "
        f"alpha={st['lora']['alpha']} dropout={st['lora']['dropout']} {st['lora']['target_modules']}",
        f"- data: demo QA training set, {st['num_examples']} examples encoded by selftt "
        f"({st['prompt_style']} prompts, {ex['min']}-{ex['max']} tokens, mean {ex['mean']:.0f}), "
        "the same list for every path",
        f"- {st['steps']} steps of batch size {st['batch_size']}, AdamW lr {st['lr']:g}, no weight decay, "
        "constant lr, no clipping; no evaluation, checkpoints, loggers or progress bars",
        f"- {st['repeats']} run(s) per path, round robin (rotated); the median run's tokens/s and the median peak RSS",
        "- each path in its own fresh subprocess; peak RSS = `ru_maxrss` of that process "
        "(model load included)",
        f"- final loss: {st['final_loss']} (batches differ between paths, so losses differ a little)",
        "",
        *_common.table(
            [
                "path",
                "steps",
                "non-pad tokens",
                "padding",
                "train wall s",
                "tokens/s",
                "tokens/s after step 1",
                "peak RSS MiB",
                "final loss",
                "speed selftt/this",
                "memory selftt/this",
            ],
            rows,
        ),
        "",
        "Targets (selftt vs the usual HF path, default sampler):",
        "",
    ]
    s = t["speed_selftt_over_hf"]
    m = t["peak_memory_selftt_over_hf"]
    miss_s = "" if s["pass"] else f" (selftt {100 * (1 - s['measured']):.1f}% slower)"
    miss_m = "" if m["pass"] else f" (selftt uses {100 * (m['measured'] - 1):.1f}% more)"
    lines += [
        f"- speed (non-pad tokens/s) selftt/HF = {s['measured']:.2f}, target >= 1.0: "
        f"{_common.verdict(s['pass'])}{miss_s}",
        f"- peak memory selftt/HF = {m['measured']:.2f}, target <= 1.0: {_common.verdict(m['pass'])}{miss_m}",
    ]
    return lines
