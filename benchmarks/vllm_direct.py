"""vLLM used directly, for ``benchmarks/vllm_engine.py``: run by the Python that has vLLM (not selftt's).

    python benchmarks/vllm_direct.py REQUEST.json RESULT.json

REQUEST holds ``model``, ``dtype``, ``prompt_token_ids``, ``max_tokens``, ``stop`` and
``stop_token_ids`` (and ``repeats``); RESULT gets the generated token ids, the engine start and
the generation seconds (the fastest of ``repeats`` runs). Greedy, the same sampling parameters selftt's vllm engine uses, one ``LLM.generate`` call.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    import vllm
    from vllm.inputs import TokensPrompt

    start = time.perf_counter()
    options = {"model": request["model"], "dtype": request["dtype"], "seed": 0}
    if request.get("kv_cache_gib"):
        options["kv_cache_memory_bytes"] = int(request["kv_cache_gib"] * 2**30)
    llm = vllm.LLM(**options)
    started = time.perf_counter() - start
    params = [
        vllm.SamplingParams(
            temperature=0.0, max_tokens=n, stop=request["stop"], stop_token_ids=request["stop_token_ids"]
        )
        for n in request["max_tokens"]
    ]
    prompts = [TokensPrompt(prompt_token_ids=ids) for ids in request["prompt_token_ids"]]
    seconds = float("inf")
    for _ in range(int(request.get("repeats", 1))):  # the fastest of the repeats
        start = time.perf_counter()
        outputs = llm.generate(prompts, params, use_tqdm=False)
        seconds = min(seconds, time.perf_counter() - start)
    result = {"start_s": started, "seconds": seconds, "token_ids": [list(o.outputs[0].token_ids) for o in outputs]}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
