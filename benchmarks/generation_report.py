"""The generation benchmark's results as Markdown (``generation.md``)."""

from __future__ import annotations

import _common


def report(result: dict) -> list[str]:
    st, m, t = result["settings"], result["methods"], result["targets"]
    pt = result["prompt_tokens"]
    breakdown = all("prefill_s" in r for r in m.values())
    rows = []
    for r in m.values():
        split = [f"{r['prefill_s']:.2f}", f"{r['decode_s']:.2f}"] if breakdown else []
        rows.append(
            [
                r["label"],
                r["num_batches"],
                r["prompt_slots"],
                f"{r['wall_s']:.2f}",
                *split,
                r["generated_tokens"],
                f"{r['tokens_per_s']:.1f}",
                f"{r['speedup_vs_per_example']:.2f}x",
                f"{r['speedup_vs_hf_batched']:.2f}x",
                f"{100 * r['identical_to_per_example']:.0f}%",
                *([f"{100 * r['identical_beyond_window']:.0f}%"] if pt.get("longer_than_window") else []),
            ]
        )
    lines = [
        "# Generation benchmark",
        "",
        *_common.environment_markdown(result["environment"]),
        f"- model: `{st['model']}` ({st['dtype']}, {st['device']})",
        f"- prompts: {st['num_prompts']} few-shot en->de translation prompts ({st['n_shots']} shots) for the "
        f"demo QA contexts/questions, {pt['min']}-{pt['max']} tokens (mean {pt['mean']:.0f}, "
        f"the first {pt['shared_prefix']} shared by all); greedy, "
        f"max_new_tokens={st['max_new_tokens']}, stop at newline",
        f"- selftt: max_batch_tokens={st['max_batch_tokens']}, max_batch_size={st['max_batch_size']} "
        f"(batches: {m['selftt']['batch_sizes']}); "
        f"HF batched baseline: batch size {st['baseline_batch_size']}",
        f"- fastest of {st['repeats']} run(s) per method, after one warm-up",
        *(
            [f"- sliding-window attention over {pt['sliding_window']} tokens: {pt['longer_than_window']} prompts are longer"]
            if pt.get("sliding_window")
            else []
        ),
        "",
        *_common.table(
            [
                "method",
                "batches",
                "prompt slots (incl. padding)",
                "wall s",
                *(["prefill s", "rest (decode) s"] if breakdown else []),
                "generated tokens",
                "tokens/s",
                "vs per-example",
                "vs HF batched",
                "same text as per-example",
                *([f"same, {pt['longer_than_window']} prompts > window"] if pt.get("longer_than_window") else []),
            ],
            rows,
        ),
        "",
        *(
            [
                "prefill s: the prompt forward passes of the same batches timed alone (left padded, "
                "KV cache, last logits; for selftt its own path asked for one token: the shared few-shot "
                "prefix once, then each batch from its cache); rest = wall - prefill: the token-by-token "
                "decoding and its "
                "overhead.",
                "",
            ]
            if breakdown
            else []
        ),
        "Targets:",
        "",
    ]
    for key, label in (
        ("selftt_vs_per_example", "selftt vs per-example loop"),
        ("selftt_vs_hf_batched", "selftt vs HF batched (unsorted)"),
    ):
        x = t[key]
        miss = "" if x["pass"] else f" (short by {x['target'] - x['measured']:.2f}x)"
        lines.append(
            f"- {label}: {x['measured']:.2f}x, target >= {x['target']}x: {_common.verdict(x['pass'])}{miss}"
        )
    return lines
