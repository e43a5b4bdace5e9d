"""The device check's results as Markdown (``device_check.md``)."""

from __future__ import annotations

import _common


def fmt(value, spec: str = ".0f", scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def env_lines(env: dict) -> list[str]:
    lines = [
        f"- command: `{env['command']}`",
        f"- date: {env['date_utc']}",
        f"- device: {env.get('gpu', env['device'])}"
        + (
            f", {env['gpu_memory_gib']} GiB, CUDA {env['cuda']}, driver {env.get('driver')}"
            if env.get("gpu")
            else ""
        )
        + f"; {env['nproc']} CPUs ({env['cpu_model']})",
        f"- versions: python {env['python']}, torch {env['torch']}, transformers {env['transformers']}, "
        f"peft {env['peft']}, lightning {env['lightning']}, bitsandbytes {env['bitsandbytes']}, "
        f"jsonargparse {env['jsonargparse']}, datasets {env['datasets']}",
    ]
    if env.get("bf16_matmul_tflops"):
        lines.append(
            f"- measured bf16 8192^3 matmul: {env['bf16_matmul_tflops']} TFLOP/s "
            "(MFU below is against the datasheet's dense peak, 989.4 TFLOP/s)"
        )
    return lines


def training_rows(jobs: list[dict]) -> list[list]:
    rows = []
    for job in jobs:
        for path in ("selftt", "hf"):
            run = job.get(path)
            if run is None and path == "hf" and "selftt" in job:
                continue  # --skip-hf
            if run is None:
                rows.append(
                    [job["shape"], job["mode"], path, f"error: {job.get('error', 'not run')}"] + ["-"] * 6
                )
                continue
            if "error" in run:
                rows.append([job["shape"], job["mode"], path, f"error: {run['error'][:160]}"] + ["-"] * 6)
                continue
            s = run["summary"]
            other = job.get("hf" if path == "selftt" else "selftt", {})
            ratio = "-"
            if path == "selftt" and "summary" in other:
                ratio = f"{s['tokens_per_s'] / other['summary']['tokens_per_s']:.2f}"
            rows.append(
                [
                    job["shape"],
                    job["mode"],
                    "selftt fit" if path == "selftt" else "HF Trainer + peft",
                    fmt(s["tokens_per_s"]),
                    ratio,
                    fmt(s["peak_memory_mib"]),
                    fmt(s.get("mfu"), ".1f", 100),
                    f"{100 * s['padding_fraction']:.0f}%",
                    f"{s['first_loss']:.3f} -> {s['last_loss']:.3f}",
                    fmt(run.get("process_s")),
                ]
            )
    return rows


def check_rows(jobs: list[dict]) -> list[list]:
    rows = []
    for job in jobs:
        checks = job.get("checks")
        if not checks:
            continue
        reload = checks.get("reload", {})
        if "error" in reload:
            reload_text = f"error: {reload['error'][:120]}"
        else:
            reload_text = (
                f"in process {reload['in_process_reload']['max_abs_diff']:.2e}; fresh process: "
                f"selftt {reload['selftt_reload']['max_abs_diff']:.2e}, "
                f"PEFT {reload['peft_reload']['max_abs_diff']:.2e} "
                f"(argmax {100 * reload['peft_reload']['argmax_agreement']:.0f}%)"
            )
        grads = checks["adapter_gradients"]
        rows.append(
            [
                job["shape"],
                job["mode"],
                _common.verdict(checks["loss_falls"]["pass"]),
                f"{_common.verdict(grads['pass'])} ({grads['tensors_with_nonzero_finite_grad']}/{grads['trainable_tensors']})",
                f"{_common.verdict(reload.get('pass', False))}: {reload_text}",
                _common.verdict(checks["evaluation_ran"]["pass"]),
            ]
        )
    return rows


def generation_rows(jobs: list[dict]) -> list[list]:
    rows = []
    for job in jobs:
        if "error" in job:
            rows.append([job["shape"], f"error: {job['error'][:160]}"] + ["-"] * 5)
            continue
        window = job["prompt_tokens"].get("sliding_window")
        for m in job["methods"].values():
            beyond = m.get("identical_beyond_window")
            rows.append(
                [
                    job["shape"],
                    m["label"],
                    m["generated_tokens"],
                    f"{m['tokens_per_s']:.0f}",
                    f"{m['speedup_vs_hf_batched']:.2f}x / {m['speedup_vs_per_example']:.2f}x",
                    f"{100 * m['identical_to_per_example']:.0f}%",
                    "-" if beyond is None else f"{100 * beyond:.0f}% (window {window})",
                ]
            )
    return rows


def markdown(result: dict) -> list[str]:
    st = result["settings"]
    lines = [
        "# Device check",
        "",
        *env_lines(result["environment"]),
        f"- models: random-initialised, real shapes ({', '.join(result['models']) or 'none built'}); "
        "tokenizer: selftt's tiny test tokenizer (1,280 tokens)",
        f"- training: {st['steps']} steps of batch {st['batch_size']} (demo QA, max length {st['max_length']}), "
        f"LoRA r=16 all-linear, AdamW lr {st['lr']:g}, gradient checkpointing, {st['dtype']}; "
        f"tokens/s = non-padding tokens after {st['warmup_steps']} warm-up steps",
        f"- elapsed {result.get('elapsed_s', 0):.0f} s of a {result['budget_s']:.0f} s budget",
        "",
        "## Training",
        "",
        *_common.table(
            [
                "shape",
                "mode",
                "path",
                "tokens/s",
                "selftt/HF",
                "peak MiB",
                "MFU %",
                "padding",
                "loss",
                "process s",
            ],
            training_rows(result["training"]),
        ),
        "",
        "qlora: 4-bit NF4 base, double quantization, bf16 compute; lora: bf16 base. Peak memory: "
        "`torch.cuda.max_memory_allocated` during training (the resident set on CPU). MFU: model FLOPs "
        "(`selftt/training/throughput.py`) per second over the dense bf16 peak.",
        "",
        "## Correctness (selftt fit)",
        "",
        *_common.table(
            [
                "shape",
                "mode",
                "loss falls",
                "adapter gradients",
                "adapter reload: max logit difference",
                "evaluation ran",
            ],
            check_rows(result["training"]),
        ),
        "",
        "## Generation",
        "",
        *_common.table(
            [
                "shape",
                "method",
                "generated tokens",
                "tokens/s",
                "vs HF batched / per-example",
                "same as per-example",
                "same, prompts > window",
            ],
            generation_rows(result["generation"]),
        ),
        "",
        f"{st['gen_prompts']} four-shot en->de translation prompts, greedy, {st['gen_new_tokens']} new tokens, "
        "stop at newline. Random weights make outputs near-ties, so bf16 rounding differences between "
        "batch shapes flip tokens more often than with trained weights.",
    ]
    if result["skipped"]:
        lines += ["", "## Skipped", "", *[f"- {s}" for s in result["skipped"]]]
    return lines
