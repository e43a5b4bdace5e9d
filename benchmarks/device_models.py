"""Random-initialised causal LMs of real architectures and sizes, for the device check.

No weights can be downloaded on the GPU host, and speed and memory do not depend on the values
of the weights, so the check builds each model from its published ``config.json`` values with
random weights (``initializer_range``), straight on the device, and saves it as a safetensors
folder that selftt loads like any other local model. The tokenizer is selftt's tiny test
tokenizer (1,280 tokens): its ids fit every vocabulary, so texts cost a different number of
tokens than with the real tokenizer, but every figure is per token.

Shapes (sources: the models' ``config.json`` on the Hugging Face hub):

- ``llama-3-8b``: meta-llama/Meta-Llama-3-8B
- ``llama-3.2-1b``: meta-llama/Llama-3.2-1B
- ``gemma-3-270m``: google/gemma-3-270m (hybrid attention: 5 of 6 layers slide over 512 tokens)
- ``tiny``, ``tiny-gemma``: the test model's shape, and Gemma 3's layout with a 32-token window
  (CPU smoke test)
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKENIZER = REPO / "tests" / "assets" / "tiny-llama"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")

_LLAMA3_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 32.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}

SHAPES: dict[str, dict] = {
    "llama-3-8b": {
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "max_position_embeddings": 8192,
        "rms_norm_eps": 1e-5,
        "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0},
        "tie_word_embeddings": False,
    },
    "llama-3.2-1b": {
        "model_type": "llama",
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "vocab_size": 128256,
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-5,
        "rope_parameters": _LLAMA3_ROPE,
        "tie_word_embeddings": True,
    },
    "gemma-3-270m": {
        "model_type": "gemma3_text",
        "hidden_size": 640,
        "intermediate_size": 2048,
        "num_hidden_layers": 18,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 256,
        "vocab_size": 262144,
        "max_position_embeddings": 32768,
        "sliding_window": 512,
        "layer_types": (["sliding_attention"] * 5 + ["full_attention"]) * 3,
        "query_pre_attn_scalar": 256,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
        },
        "tie_word_embeddings": True,
    },
    "tiny-gemma": {
        "model_type": "gemma3_text",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 6,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "vocab_size": 1280,
        "max_position_embeddings": 4096,
        "sliding_window": 32,
        "layer_types": ["sliding_attention"] * 5 + ["full_attention"],
        "query_pre_attn_scalar": 16,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True,
    },
    "tiny": {
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "vocab_size": 1280,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
    },
}


def make_config(shape: str):
    """The transformers config of ``shape`` with the test tokenizer's special-token ids."""
    from transformers import AutoConfig

    if shape not in SHAPES:
        raise SystemExit(f"unknown shape '{shape}'; expected one of {', '.join(SHAPES)}")
    values = dict(SHAPES[shape])
    model_type = values.pop("model_type")
    return AutoConfig.for_model(model_type, bos_token_id=1, eos_token_id=2, pad_token_id=0, **values)


def build_model_folder(
    shape: str, out_dir: Path, device: str, dtype: str = "bfloat16", seed: int = 0
) -> dict:
    """Write ``out_dir/<shape>/`` (config, random safetensors weights, tokenizer); reuse it if present.

    The weights are drawn on ``device`` (seconds for 8B parameters on a GPU) in ``dtype``.
    Returns the folder, the parameter count and the seconds spent.
    """
    import torch
    from transformers import AutoModelForCausalLM

    folder = out_dir / shape
    done = folder / "config.json"
    start = time.perf_counter()
    if not done.is_file():
        tmp = out_dir / f".{shape}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        torch.manual_seed(seed)
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(make_config(shape), dtype=getattr(torch, dtype))
        model.save_pretrained(tmp, safe_serialization=True)
        params = sum(p.numel() for p in model.parameters())
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        for name in TOKENIZER_FILES:
            if (TOKENIZER / name).is_file():
                shutil.copy(TOKENIZER / name, tmp / name)
        tmp.rename(folder)  # complete folders only: config.json marks a finished one
    else:
        params = None
    return {"path": str(folder), "parameters": params, "seconds": time.perf_counter() - start}
