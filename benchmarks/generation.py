"""Where translation and evaluation spend their time: batched greedy generation.

Compares, in one process, on the same model and the same prompts (the few-shot translation
prompts selftt builds for the demo QA contexts and questions, greedy, stop at a newline):

  a. selftt's ``BatchedGenerator``: prompts sorted by length, packed into token-budget batches;
  b. the usual per-example loop: ``model.generate`` on one prompt at a time;
  c. Hugging Face batched ``generate`` without length sorting: a fixed batch size, prompts in
     their original (shuffled) order, left padding.

Generated tokens are counted the same way for all three: the new tokens up to and including
EOS or the token that completes the stop string. Run::

    python benchmarks/generation.py                      # Gemma 3 270M, 48 prompts
    python benchmarks/generation.py --model tests/assets/tiny-llama -n 6 --max-new-tokens 8
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from generation_report import report  # noqa: E402

NAME = "generation"
STOP = ["\n"]
TARGET_VS_PER_EXAMPLE = 4.0
TARGET_VS_HF_BATCHED = 1.3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pypi://gemma3-270m", help="pypi:// name, HF id or local folder")
    p.add_argument("-n", "--num-prompts", type=int, default=48)
    p.add_argument("--max-new-tokens", type=int, default=48)
    p.add_argument("--n-shots", type=int, default=4, help="shot pairs in the translation prompt (demo: 4)")
    p.add_argument("--max-batch-tokens", type=int, default=8192, help="selftt token budget (demo: 8192)")
    p.add_argument("--max-batch-size", type=int, default=64, help="selftt batch size cap")
    p.add_argument(
        "--baseline-batch-size",
        type=int,
        default=0,
        help="batch size of (c); 0 = the median batch size selftt's plan uses for these prompts",
    )
    p.add_argument("--data", default=str(_common.REPO / "selftt/assets/demo/qa_train_en.json"))
    p.add_argument("--repeats", type=int, default=1, help="time each method this often, keep the fastest")
    p.add_argument("--threads", type=int, default=_common.DEFAULT_THREADS, help="OMP_NUM_THREADS")
    p.add_argument("--seed", type=int, default=0, help="shuffles the texts")
    p.add_argument(
        "--no-breakdown",
        action="store_true",
        help="skip timing the prompt forward passes (prefill) of each method's batches alone",
    )
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"], help="model weights and compute")
    p.add_argument("--out", type=Path, default=_common.DEFAULT_OUT, help="folder for the JSON + Markdown")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------- prompts
def build_prompts(data: str, n: int, n_shots: int, seed: int) -> list[str]:
    """Translation prompts (en -> de) for ``n`` distinct context/question lines, in shuffled order."""
    import json

    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.shots import load_shots

    squad = json.loads(Path(data).read_text(encoding="utf-8"))["data"]
    texts: list[str] = []
    for article in squad:
        for paragraph in article["paragraphs"]:
            texts += paragraph["context"].split("\n")
            texts += [qa["question"] for qa in paragraph["qas"]]
    texts = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    random.Random(seed).shuffle(texts)
    if n > len(texts):
        raise SystemExit(f"--num-prompts {n}: the data has only {len(texts)} distinct lines")
    shots = load_shots(None, "en", "de")
    prompt = TranslationPrompt(n_shots=n_shots)
    return [prompt.build(text, shots, "en", "de") for text in texts[:n]]


# ---------------------------------------------------------------------------- counting
class RecordingModel:
    """Passes everything to the model; remembers (prompt width, output ids) of each ``generate``."""

    def __init__(self, model) -> None:
        self._model = model
        self.calls: list[tuple[int, object]] = []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, *args, **kwargs):  # the shared-prefix forward pass
        return self._model(*args, **kwargs)

    def generate(self, **kwargs):
        out = self._model.generate(**kwargs)
        self.calls.append((kwargs["input_ids"].shape[1], out))
        return out


def count_new_tokens(ids: list[int], eos_id: int | None, tokenizer) -> int:
    """New tokens up to and including EOS or the token that completes a stop string."""
    for k, token in enumerate(ids):
        if token == eos_id:
            return k + 1
        if any(s in tokenizer.decode(ids[: k + 1], skip_special_tokens=True) for s in STOP):
            return k + 1
    return len(ids)


def gen_kwargs(tokenizer, max_new_tokens: int) -> dict:
    """The decoding arguments selftt's generator passes (greedy, stop strings)."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return dict(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        pad_token_id=pad_id,
        eos_token_id=tokenizer.eos_token_id,
        use_cache=True,
        stop_strings=list(STOP),
        tokenizer=tokenizer,
    )


# ---------------------------------------------------------------------------- the three methods
def run_selftt(model, tokenizer, prompts, args) -> tuple[list[str], list[list[int]], dict]:
    from selftt.modules.generation import BatchedGenerator, GenerationSettings, plan_batches

    settings = GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        max_batch_tokens=args.max_batch_tokens,
        max_batch_size=args.max_batch_size,
    )
    recorder = RecordingModel(model)
    generator = BatchedGenerator(recorder, tokenizer, settings)
    start = time.perf_counter()
    texts = generator.generate(prompts, stop=STOP, max_new_tokens=args.max_new_tokens)
    wall = time.perf_counter() - start
    # the batches the generator made (the same deterministic plan), to map output rows to prompts
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    plan = plan_batches(
        lengths, [args.max_new_tokens] * len(prompts), settings.max_batch_tokens, settings.max_batch_size
    )
    new_ids: list[list[int]] = [[] for _ in prompts]
    for batch, (width, out) in zip(plan, recorder.calls, strict=True):
        for row, i in enumerate(batch):
            new_ids[i] = out[row, width:].tolist()
    padded = sum(len(b) * max(lengths[i] for i in b) for b in plan)
    return texts, new_ids, {"wall_s": wall, "batch_sizes": [len(b) for b in plan], "prompt_slots": padded}


def run_per_example(model, tokenizer, prompts, args) -> tuple[list[str], list[list[int]], dict]:
    import torch

    from selftt.modules.generation import cut_at_stop

    kwargs = gen_kwargs(tokenizer, args.max_new_tokens)
    texts, new_ids = [], []
    start = time.perf_counter()
    with torch.no_grad():
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt").to(model.device)
            out = model.generate(**enc, **kwargs)
            new = out[0, enc["input_ids"].shape[1] :].tolist()
            texts.append(cut_at_stop(tokenizer.decode(new, skip_special_tokens=True), STOP))
            new_ids.append(new)
    wall = time.perf_counter() - start
    slots = sum(len(tokenizer(p)["input_ids"]) for p in prompts)
    return texts, new_ids, {"wall_s": wall, "batch_sizes": [1] * len(prompts), "prompt_slots": slots}


def run_hf_batched(
    model, tokenizer, prompts, args, batch_size: int
) -> tuple[list[str], list[list[int]], dict]:
    import torch

    from selftt.modules.generation import cut_at_stop

    kwargs = gen_kwargs(tokenizer, args.max_new_tokens)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    texts, new_ids, sizes, slots = [], [], [], 0
    try:
        start = time.perf_counter()
        with torch.no_grad():
            for b in range(0, len(prompts), batch_size):
                enc = tokenizer(prompts[b : b + batch_size], return_tensors="pt", padding=True).to(model.device)
                out = model.generate(**enc, **kwargs)
                width = enc["input_ids"].shape[1]
                for row in range(out.shape[0]):
                    new = out[row, width:].tolist()
                    texts.append(cut_at_stop(tokenizer.decode(new, skip_special_tokens=True), STOP))
                    new_ids.append(new)
                sizes.append(out.shape[0])
                slots += enc["input_ids"].numel()
        wall = time.perf_counter() - start
    finally:
        tokenizer.padding_side = side
    return texts, new_ids, {"wall_s": wall, "batch_sizes": sizes, "prompt_slots": slots}


def prefill_seconds(model, tokenizer, prompts: list[str], batches: list[list[int]]) -> float:
    """Time of the prompt forward passes alone (left padded, KV cache, last logits), batch by batch."""
    import torch

    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        start = time.perf_counter()
        with torch.no_grad():
            for batch in batches:
                enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True).to(model.device)
                model(**enc, use_cache=True, logits_to_keep=1)
        return time.perf_counter() - start
    finally:
        tokenizer.padding_side = side


def selftt_prefill_seconds(model, tokenizer, prompts: list[str], args) -> float:
    """selftt's prefill through its own code path (shared prefix once, then the batches from its
    cache): the generator asked for one new token per prompt."""
    from selftt.modules.generation import BatchedGenerator, GenerationSettings

    settings = GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        max_batch_tokens=args.max_batch_tokens,
        max_batch_size=args.max_batch_size,
    )
    start = time.perf_counter()
    BatchedGenerator(model, tokenizer, settings).generate(prompts, max_new_tokens=1)
    return time.perf_counter() - start


def shared_prefix_tokens(tokenizer, prompts: list[str]) -> int:
    """Length of the token prefix all prompts share (the few-shot examples)."""
    ids = [tokenizer(p)["input_ids"] for p in prompts]
    n = 0
    while all(len(x) > n and x[n] == ids[0][n] for x in ids):
        n += 1
    return n


def warm_up(model, tokenizer, prompts) -> None:
    """One short per-example and one short batched call (kernels, allocator, stop-string tables)."""
    import torch

    kwargs = gen_kwargs(tokenizer, 4)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        with torch.no_grad():
            model.generate(**tokenizer(prompts[0], return_tensors="pt").to(model.device), **kwargs)
            model.generate(**tokenizer(prompts[:2], return_tensors="pt", padding=True).to(model.device), **kwargs)
    finally:
        tokenizer.padding_side = side


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    _common.set_threads(args.threads)
    import torch

    from selftt.modules.generation import plan_batches
    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.modules.packaged_models import resolve_model_path

    env = _common.environment(args.threads)
    path = resolve_model_path(args.model)
    tokenizer = load_tokenizer(args.model)
    model = load_causal_lm(args.model, "none", torch.device(args.device), getattr(torch, args.dtype))
    model.eval()
    prompts = build_prompts(args.data, args.num_prompts, args.n_shots, args.seed)
    prompt_lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]

    plan = plan_batches(
        prompt_lengths, [args.max_new_tokens] * len(prompts), args.max_batch_tokens, args.max_batch_size
    )
    baseline_bs = args.baseline_batch_size or max(1, round(statistics.median(len(b) for b in plan)))
    print(
        f"{len(prompts)} prompts of {min(prompt_lengths)}-{max(prompt_lengths)} tokens "
        f"(mean {statistics.mean(prompt_lengths):.0f}); selftt plan: {[len(b) for b in plan]}; "
        f"HF batched baseline: batch size {baseline_bs}; threads {args.threads}",
        flush=True,
    )
    warm_up(model, tokenizer, prompts)

    methods = {
        "selftt": ("selftt BatchedGenerator (length-sorted, token budget, shared-prefix cache where exact)", run_selftt, ()),
        "per_example": ("per-example model.generate loop", run_per_example, ()),
        "hf_batched": (f"HF batched generate, bs={baseline_bs}, unsorted", run_hf_batched, (baseline_bs,)),
    }
    results: dict[str, dict] = {}
    for repeat in range(args.repeats):
        for key, (label, fn, extra) in methods.items():
            texts, new_ids, info = fn(model, tokenizer, prompts, args, *extra)
            print(f"  [{repeat + 1}/{args.repeats}] {label}: {info['wall_s']:.2f} s", flush=True)
            if key not in results or info["wall_s"] < results[key]["wall_s"]:
                results[key] = {"label": label, "texts": texts, "new_ids": new_ids, **info}

    if not args.no_breakdown:
        n = len(prompts)
        batches = {
            "selftt": plan,
            "per_example": [[i] for i in range(n)],
            "hf_batched": [list(range(b, min(n, b + baseline_bs))) for b in range(0, n, baseline_bs)],
        }
        for key, r in results.items():
            if key == "selftt":
                r["prefill_s"] = selftt_prefill_seconds(model, tokenizer, prompts, args)
            else:
                r["prefill_s"] = prefill_seconds(model, tokenizer, prompts, batches[key])
            r["decode_s"] = r["wall_s"] - r["prefill_s"]
            print(f"  prefill alone, {methods[key][0]}: {r['prefill_s']:.2f} s", flush=True)

    reference = results["per_example"]["texts"]
    window = getattr(model.config, "sliding_window", None)
    long_rows = [i for i, n in enumerate(prompt_lengths) if window and n > window]
    for r in results.values():
        same = [r["texts"][i] == reference[i] for i in long_rows]
        r["identical_beyond_window"] = sum(same) / len(same) if same else None
        counted = [count_new_tokens(ids, tokenizer.eos_token_id, tokenizer) for ids in r.pop("new_ids")]
        r["generated_tokens"] = sum(counted)
        r["tokens_per_s"] = r["generated_tokens"] / r["wall_s"]
        r["identical_to_per_example"] = sum(a == b for a, b in zip(r["texts"], reference, strict=True)) / len(
            reference
        )
        r["num_batches"] = len(r["batch_sizes"])
    for r in results.values():
        r["speedup_vs_per_example"] = r["tokens_per_s"] / results["per_example"]["tokens_per_s"]
        r["speedup_vs_hf_batched"] = r["tokens_per_s"] / results["hf_batched"]["tokens_per_s"]

    s = results["selftt"]
    targets = {
        "selftt_vs_per_example": {
            "target": TARGET_VS_PER_EXAMPLE,
            "measured": s["speedup_vs_per_example"],
            "pass": s["speedup_vs_per_example"] >= TARGET_VS_PER_EXAMPLE,
        },
        "selftt_vs_hf_batched": {
            "target": TARGET_VS_HF_BATCHED,
            "measured": s["speedup_vs_hf_batched"],
            "pass": s["speedup_vs_hf_batched"] >= TARGET_VS_HF_BATCHED,
        },
    }
    result = {
        "benchmark": NAME,
        "environment": env,
        "settings": {
            "model": args.model,
            "model_path": path,
            "num_prompts": len(prompts),
            "max_new_tokens": args.max_new_tokens,
            "n_shots": args.n_shots,
            "stop": STOP,
            "max_batch_tokens": args.max_batch_tokens,
            "max_batch_size": args.max_batch_size,
            "baseline_batch_size": baseline_bs,
            "repeats": args.repeats,
            "seed": args.seed,
            "dtype": args.dtype,
            "device": args.device,
        },
        "prompt_tokens": {
            "total": sum(prompt_lengths),
            "min": min(prompt_lengths),
            "max": max(prompt_lengths),
            "mean": statistics.mean(prompt_lengths),
            "shared_prefix": shared_prefix_tokens(tokenizer, prompts),
            "sliding_window": window,
            "longer_than_window": len(long_rows),
        },
        "methods": {k: {kk: vv for kk, vv in v.items() if kk != "texts"} for k, v in results.items()},
        "targets": targets,
        "outputs": [
            {"prompt_tail": p[-80:], **{k: results[k]["texts"][i] for k in results}}
            for i, p in enumerate(prompts)
        ],
    }
    markdown = report(result)
    json_path, md_path = _common.save(args.out, NAME, result, markdown)
    print("\n".join(markdown[2:]))
    print(f"\nwrote {json_path} and {md_path}")
    return result


if __name__ == "__main__":
    main()
