"""When reusing a shared prompt prefix's KV cache gives exactly the outputs of one prompt alone.

``BatchedGenerator`` lays out each row of a batch as ``shared prefix | padding | rest`` and
starts from a copy of the prefix's KV cache, the padding masked and the position ids skipping
it. With full causal attention every layer then sees, for every row, exactly the tokens it would
see alone. A sliding window (Mistral, Gemma 2/3's local layers) or an attention chunk (Llama 4)
is measured in cache slots, padding included, so padding inside the window hides real tokens
and the output changes with the batch mates (measured: Gemma 3 270M, 2 of 8 translations equal
to one-at-a-time greedy). Linear-attention and recurrent layers keep a state that padding in the
middle would update. For those the generator does not reuse the prefix: plain left padding keeps
every row exact.
"""

from __future__ import annotations

from typing import Any


def _text_config(config: Any) -> Any:
    get = getattr(config, "get_text_config", None)
    return get() if callable(get) else config


def prefix_reuse_is_exact(config: Any, cache: Any | None = None) -> bool:
    """True when every attention layer of the model is full causal attention (from ``config``:
    ``layer_types``, ``sliding_window`` with ``use_sliding_window``, ``attention_chunk_size``)
    and, when given, every layer of the prefix's ``cache`` is a plain ``DynamicLayer``."""
    text = _text_config(config)
    layer_types = getattr(text, "layer_types", None)
    if layer_types and any(t != "full_attention" for t in layer_types):
        return False
    if getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True):
        return False
    if getattr(text, "attention_chunk_size", None):
        return False
    if cache is None:
        return True
    layers = getattr(cache, "layers", None)
    if type(cache).__name__ != "DynamicCache" or layers is None:
        return False
    return all(type(layer).__name__ == "DynamicLayer" for layer in layers)
