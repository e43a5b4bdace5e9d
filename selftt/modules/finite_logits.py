"""Stop at the first inf/NaN logit: half-precision overflow must not pass as empty answers."""

from __future__ import annotations

from typing import Any

import torch

from selftt.errors import SelfTTError


class NonFiniteLogitsError(SelfTTError):
    """The model produced inf or NaN logits (float16 overflow, broken weights)."""


def dtype_advice(model: Any) -> str:
    """What to change when ``model`` produced non-finite numbers, naming its dtype."""
    dtype = getattr(model, "dtype", None)
    name = str(dtype).removeprefix("torch.") if dtype is not None else "its dtype"
    if dtype == torch.float16:
        return (
            f"the model runs in {name}, whose range (max 65504) some models overflow (Gemma 3's "
            "activations reach ~1e5); set model.dtype to bfloat16 (GPU) or float32"
        )
    return f"the model runs in {name}; check the weights, or try model.dtype: float32"


def check_finite(logits: torch.Tensor, model: Any) -> None:
    """Raise :class:`NonFiniteLogitsError` naming the cause when ``logits`` hold inf or NaN."""
    if not bool(torch.isfinite(logits).all()):
        raise NonFiniteLogitsError(f"the model produced non-finite logits (inf/NaN): {dtype_advice(model)}")


class NonFiniteLogitsCheck:
    """A ``generate`` logits processor that notes non-finite scores without a device sync per
    step (a flag tensor accumulates on the device); :meth:`raise_if_seen` checks it once after."""

    def __init__(self) -> None:
        self.seen: torch.Tensor | None = None

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        bad = ~torch.isfinite(scores).all()
        self.seen = bad if self.seen is None else self.seen | bad
        return scores

    def raise_if_seen(self, model: Any) -> None:
        if self.seen is not None and bool(self.seen):
            raise NonFiniteLogitsError(
                f"the model produced non-finite logits (inf/NaN) while generating: {dtype_advice(model)}"
            )
