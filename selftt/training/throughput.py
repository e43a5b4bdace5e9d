"""Training throughput: tokens per second, peak memory, model FLOP utilisation (MFU), gradients.

Model FLOPs follow PaLM (Chowdhery et al. 2022, appendix B): per token, 2 FLOPs per weight of
every matrix multiply in the forward pass, twice that for the backward pass, plus
``12 * layers * attention width * sequence length`` for the attention scores. With LoRA the
frozen base weights need no weight gradient, so their backward costs only the gradient with
respect to their input (2 FLOPs per weight, not 4): per token ``4 * N_frozen + 6 * N_trainable
+ 12 * L * d_attn * T``. Recomputation from gradient checkpointing is not counted (that would
be hardware FLOPs utilisation), nor are the input embeddings (a lookup, not a multiply).
"""

from __future__ import annotations

import math
import resource
import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from selftt.utils.atomic import write_json_atomic

H200_BF16_DENSE_FLOPS = 989.4e12
"""NVIDIA H200 SXM, dense BF16 tensor-core peak (the datasheet's 1,979 TFLOPS is with 2:4
sparsity). Lightning's own table lists the sparse figure for H200, so selftt keeps this one."""


def peak_flops(device: torch.device, dtype: torch.dtype = torch.bfloat16) -> float | None:
    """Theoretical dense peak FLOP/s of ``device`` for ``dtype``; None where unknown (e.g. CPU).

    H200: :data:`H200_BF16_DENSE_FLOPS` (bf16/fp16); other GPUs: Lightning's table
    (``lightning.fabric.utilities.throughput.get_available_flops``).
    """
    if device.type != "cuda":
        return None
    if "h200" in torch.cuda.get_device_name(device).lower() and dtype in (torch.bfloat16, torch.float16):
        return H200_BF16_DENSE_FLOPS
    from lightning.fabric.utilities.throughput import get_available_flops

    flops = get_available_flops(device, dtype)
    return float(flops) if flops else None


def matmul_weights(model: torch.nn.Module) -> tuple[int, int]:
    """(frozen, trainable) weights of the model's linear layers, as logical (unpacked) counts.

    A bitsandbytes ``Linear4bit`` stores two weights per byte; ``in_features * out_features``
    counts what the matrix multiply does. LoRA's own ``lora_A``/``lora_B`` layers count as
    trainable.
    """
    frozen = trainable = 0
    for module in model.modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        n = module.in_features * module.out_features
        if module.weight.requires_grad:
            trainable += n
        else:
            frozen += n
    return frozen, trainable


def attention_shape(config: Any) -> tuple[int, int]:
    """(layers, attention width = heads x head dim) from a transformers config."""
    config = getattr(config, "text_config", None) or config
    heads = int(config.num_attention_heads)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return int(config.num_hidden_layers), heads * int(head_dim)


def model_flops_per_token(frozen: int, trainable: int, layers: int, attn_width: int, seq_len: int) -> float:
    """Training FLOPs per token (see the module docstring): ``4 N_frozen + 6 N_trainable +
    12 L d_attn T``."""
    return 4 * frozen + 6 * trainable + 12 * layers * attn_width * seq_len


class TrainingThroughput(Callback):
    """Measures every optimizer step: non-padding tokens, seconds, loss, gradient norm of the
    trainable (adapter) weights and the share of them that got a non-zero gradient, peak
    memory; logs ``perf/tokens_per_s``, ``perf/peak_memory_mib`` and ``perf/mfu`` and, when
    ``output_file`` is set, writes everything as JSON at the end of fit (global rank 0).

    Times are taken after ``torch.cuda.synchronize`` on a GPU. Peak memory is
    ``torch.cuda.max_memory_allocated`` on a GPU (MiB), the process's resident-set high-water
    mark elsewhere. Tokens per second exclude the first ``warmup_steps`` steps (kernel
    compilation, allocator growth). Counts are this rank's; under DDP multiply by the world size.
    """

    def __init__(
        self, output_file: str | None = None, warmup_steps: int = 2, peak_tflops: float | None = None
    ) -> None:
        """
        Args:
            output_file: JSON file to write at the end of fit (relative paths: inside the run's
                log directory). None: log only.
            warmup_steps: Steps left out of the steady tokens/s and MFU (>= 0).
            peak_tflops: The device's peak TFLOP/s for MFU; None: :func:`peak_flops`, and no MFU
                where that is unknown.
        """
        from selftt.config_checks import check_range

        check_range("throughput.warmup_steps", warmup_steps)
        check_range("throughput.peak_tflops", peak_tflops)
        self.output_file = output_file
        self.warmup_steps = warmup_steps
        self.peak_tflops = peak_tflops
        self.steps: list[dict[str, Any]] = []
        self._batch: dict[str, Any] = {}
        self._last_end: float | None = None
        self._shape: dict[str, Any] = {}

    # ------------------------------------------------------------------ hooks
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        device = pl_module.device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        model = pl_module.model if getattr(pl_module, "model", None) is not None else pl_module
        frozen, trainable = matmul_weights(model)
        config = getattr(model, "config", None)
        layers, width = attention_shape(config) if config is not None else (0, 0)
        peak = self.peak_tflops * 1e12 if self.peak_tflops else peak_flops(device)
        self._shape = {
            "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "frozen_matmul_weights": frozen,
            "trainable_matmul_weights": trainable,
            "layers": layers,
            "attention_width": width,
            "peak_flops": peak,
        }
        self._sync(device)
        self._last_end = time.perf_counter()

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        mask = batch["attention_mask"]
        self._batch = {
            "tokens": int(mask.sum()),
            "padded_tokens": int(mask.numel()),
            "seq_len": mask.shape[1],
        }

    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Any) -> None:
        grads = [p.grad for p in pl_module.parameters() if p.requires_grad]
        norms = [g.detach().float().norm() for g in grads if g is not None]
        per_tensor = torch.stack(norms).tolist() if norms else []  # one device sync
        self._batch["grad_norm"] = math.sqrt(sum(n * n for n in per_tensor))
        self._batch["params_with_grad"] = sum(1 for n in per_tensor if math.isfinite(n) and n > 0)
        self._batch["trainable_tensors"] = len(grads)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        device = pl_module.device
        self._sync(device)
        now = time.perf_counter()
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        step = {
            "step": trainer.global_step,
            **self._batch,
            "seconds": now - (self._last_end or now),
            "loss": float(loss) if loss is not None else float("nan"),
            "peak_memory_mib": self._peak_memory_mib(device),
        }
        step["flops"] = step["tokens"] * model_flops_per_token(
            self._shape["frozen_matmul_weights"],
            self._shape["trainable_matmul_weights"],
            self._shape["layers"],
            self._shape["attention_width"],
            step["seq_len"],
        )
        self._last_end = now
        self.steps.append(step)
        metrics = {
            "perf/tokens_per_s": step["tokens"] / step["seconds"] if step["seconds"] > 0 else 0.0,
            "perf/peak_memory_mib": step["peak_memory_mib"],
        }
        if self._shape["peak_flops"] and step["seconds"] > 0:
            metrics["perf/mfu"] = step["flops"] / step["seconds"] / self._shape["peak_flops"]
        pl_module.log_dict(metrics, on_step=True, on_epoch=False, batch_size=int(batch["attention_mask"].shape[0]))

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.steps:
            return
        summary = self.summary()
        rank_zero_info(
            f"selftt: {summary['tokens_per_s']:.0f} tokens/s after {summary['warmup_steps']} warm-up steps, "
            f"peak memory {summary['peak_memory_mib']:.0f} MiB"
            + (f", MFU {100 * summary['mfu']:.1f}%" if summary.get("mfu") is not None else "")
        )
        if self.output_file and trainer.is_global_zero:
            path = Path(self.output_file)
            if not path.is_absolute():
                path = Path(trainer.log_dir or trainer.default_root_dir) / path
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(path, {"summary": summary, "shape": self._shape, "steps": self.steps})

    # ------------------------------------------------------------------ results
    def summary(self) -> dict[str, Any]:
        """Steady-state figures over the steps after the warm-up; see :func:`summarize_steps`."""
        return summarize_steps(self.steps, self.warmup_steps, self._shape.get("peak_flops"))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _sync(device: torch.device) -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    @staticmethod
    def _peak_memory_mib(device: torch.device) -> float:
        if device.type == "cuda":
            return torch.cuda.max_memory_allocated(device) / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def summarize_steps(steps: list[dict[str, Any]], warmup_steps: int, peak: float | None) -> dict[str, Any]:
    """Throughput over ``steps`` (dicts with tokens, padded_tokens, seconds, flops, loss,
    peak_memory_mib) after the first ``warmup_steps`` (all steps when there are no more).

    Returns tokens/s, model FLOP/s, MFU against ``peak`` FLOP/s (None without it), the peak
    memory over all steps, and the first and last losses.
    """
    steady = steps[warmup_steps:] or steps
    seconds = sum(s["seconds"] for s in steady)
    tokens = sum(s["tokens"] for s in steady)
    flops = sum(s["flops"] for s in steady)
    return {
        "steps": len(steps),
        "warmup_steps": len(steps) - len(steady),
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds if seconds > 0 else float("nan"),
        "padding_fraction": 1 - tokens / max(1, sum(s["padded_tokens"] for s in steady)),
        "model_flops_per_s": flops / seconds if seconds > 0 else float("nan"),
        "mfu": flops / seconds / peak if peak and seconds > 0 else None,
        "peak_memory_mib": max(s["peak_memory_mib"] for s in steps),
        "first_loss": steps[0]["loss"],
        "last_loss": steps[-1]["loss"],
    }
