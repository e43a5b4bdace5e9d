"""selftt's side of the ``vllm`` engine: prompts in, :class:`Generation` records out, through a
vLLM worker process (:mod:`selftt.modules.engines.vllm_worker`).

selftt tokenizes the prompts itself and sends token ids, so vLLM sees exactly the tokens the
``hf`` engine would; vLLM decodes greedily with the same budgets, stop strings and end tokens,
and returns every generated token; selftt turns them into text with the ``hf`` engine's own
:func:`~selftt.modules.generation.finish_generation`. The worker runs in the Python that has
vLLM (:meth:`EngineSettings.interpreter`), which need not have selftt's dependencies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from selftt.errors import ConfigError, SelfTTError
from selftt.modules.engines.settings import EngineSettings
from selftt.modules.generation import (
    Generation,
    GenerationSettings,
    TextsOnly,
    finish_generation,
    token_budgets,
)

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("vllm_worker.py")
REQUEST_PROMPTS = 256
"""Prompts sent to the worker per request (vLLM schedules them itself; smaller requests let the
progress bar move)."""


class VLLMGenerator(TextsOnly):
    """Generates continuations with a vLLM engine in a worker process, started on first use.

    Args:
        model_path: Folder (or hub id) of the weights vLLM loads: the base model, no adapter.
        tokenizer: selftt's tokenizer of that model (prompts are tokenized here).
        end_ids: Token ids that end a continuation (``selftt.modules.end_tokens.end_token_ids``).
        settings: Decoding (greedy only) and the per-prompt token cap.
        engine: How to start vLLM (``translation.engine``).
        dtype: The dtype for ``engine.dtype: auto`` (the loaded model's, e.g. 'float32').
        key: Config key named in errors.
        gpus: ``CUDA_VISIBLE_DEVICES`` of the worker (see :func:`replica_gpus`); None: inherited.
        lora_path: A PEFT LoRA adapter folder served on top of the base model (vLLM
            ``LoRARequest``) for every prompt; None: the base model alone.
        lora_rank: The adapter's rank ``r`` (vLLM's ``max_lora_rank`` is set to the smallest
            rank limit vLLM accepts that holds it).

    Raises (from :meth:`generate_detailed`):
        ConfigError: sampling asked for (only greedy decoding is supported), or the worker's Python
            cannot import vLLM.
        SelfTTError: the vLLM worker failed to start or died; the message names its log file.
    """

    def __init__(
        self,
        model_path: str,
        tokenizer,
        end_ids: Sequence[int],
        settings: GenerationSettings,
        engine: EngineSettings,
        dtype: str = "float32",
        key: str = "translation.engine",
        gpus: str | None = None,
        lora_path: str | None = None,
        lora_rank: int | None = None,
    ) -> None:
        self.model_path = str(model_path)
        self.tokenizer = tokenizer
        self.end_ids = [int(t) for t in end_ids]
        self.settings = settings
        self.engine = engine
        self.dtype = dtype if engine.dtype == "auto" else engine.dtype
        self.key = key
        self.gpus = gpus
        self.lora_path = lora_path
        self.lora_rank = lora_rank
        self._process: subprocess.Popen | None = None
        self._log_path: Path | None = None
        self.version: str | None = None

    # ------------------------------------------------------------------ worker
    def start(self) -> None:
        """Start the worker and wait until its engine is ready (no-op when it runs)."""
        if self._process is not None:
            return
        self.engine.check_decoding(self.settings.do_sample, self.key)
        python = self.engine.interpreter()
        handle, name = tempfile.mkstemp(prefix="selftt-vllm-", suffix=".log")
        self._log_path = Path(name)
        env = dict(os.environ)
        env.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{max((os.cpu_count() or 1) - 1, 0)}")
        if self.gpus is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.gpus
        log.info("starting vLLM (%s) for %s; its log: %s", python, self.model_path, self._log_path)
        with os.fdopen(handle, "w") as stderr:
            self._process = subprocess.Popen(
                [python, str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
                start_new_session=True,  # its own process group: vLLM's processes end with it
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        config = {
            "model": self.model_path,
            "dtype": self.dtype,
            "seed": 0,
            "tensor_parallel_size": self.engine.tensor_parallel_size,
            "max_model_len": self.engine.max_model_len,
            "gpu_memory_utilization": self.engine.gpu_memory_utilization,
            "kv_cache_gib": self.engine.kv_cache_gib,
            "enforce_eager": self.engine.enforce_eager,
            "enable_lora": self.lora_path is not None,
            "max_lora_rank": lora_rank_limit(self.lora_rank or 1) if self.lora_path else None,
        }
        answer = self._ask(config, timeout=self.engine.start_timeout_s)
        self.version = answer.get("vllm")

    def close(self) -> None:
        """Stop the worker (it also stops when selftt's process ends: its stdin closes)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
            process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever vLLM left in the worker's group
        process.wait()

    def __enter__(self) -> VLLMGenerator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ask(self, payload: dict, timeout: float | None = None) -> dict:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(payload) + "\n")
            process.stdin.flush()
        except OSError:
            pass  # the worker is gone: its exit is reported below
        line = _read_line(process, timeout)
        if line is None:
            answer = {"error": f"no answer within {timeout:g} s ({self.key}.start_timeout_s)"}
        elif line.strip().startswith("{"):
            answer = json.loads(line)
        else:
            answer = {"error": f"the worker ended without an answer (exit code {process.poll()})"}
        if "error" in answer:
            self.close()
            error = answer["error"]
            if "No module named 'vllm'" in error:
                raise ConfigError(
                    f"{self.key}.python",
                    f"{self.engine.interpreter()} cannot import vllm; install it there (pip install vllm, or "
                    "bash scripts/install_vllm_cpu.sh on CPUs) or name a Python that has it",
                )
            raise SelfTTError(f"vLLM failed: {error} (its log: {self._log_path})")
        return answer

    # ------------------------------------------------------------------ generation
    def generate_detailed(
        self,
        prompts: Sequence[str],
        stop: Sequence[str] = (),
        max_new_tokens: Sequence[int] | int | None = None,
        add_special_tokens: bool = True,
        progress: bool = False,
        desc: str = "generating",
    ) -> list[Generation]:
        """Continuations of ``prompts`` with their finish reasons, in the prompts' order; the same
        arguments and budgets as :meth:`selftt.modules.generation.BatchedGenerator.generate_detailed`."""
        if not prompts:
            return []
        self.start()
        budgets = token_budgets(max_new_tokens, len(prompts), self.settings.max_new_tokens)
        encoded = [self.tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
        outputs: list[Generation] = []
        with tqdm(total=len(prompts), desc=desc, disable=not progress, dynamic_ncols=True) as bar:
            for start in range(0, len(prompts), REQUEST_PROMPTS):
                part = slice(start, start + REQUEST_PROMPTS)
                request = {
                    "prompt_token_ids": encoded[part],
                    "max_tokens": budgets[part],
                    "stop": list(stop),
                    "stop_token_ids": self.end_ids,
                    "lora": {"name": "adapter", "path": self.lora_path} if self.lora_path else None,
                }
                tokens = self._ask(request)["token_ids"]
                outputs += [
                    finish_generation(self.tokenizer, self.end_ids, ids, budget, stop)
                    for ids, budget in zip(tokens, budgets[part], strict=True)
                ]
                bar.update(len(tokens))
        return outputs


LORA_RANK_LIMITS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for ``max_lora_rank`` (vllm/config/lora.py, 0.32)."""


def lora_rank_limit(rank: int) -> int:
    """The smallest of :data:`LORA_RANK_LIMITS` that holds an adapter of rank ``rank``.

    Raises:
        ConfigError: the rank is above vLLM's largest limit (512).
    """
    for limit in LORA_RANK_LIMITS:
        if rank <= limit:
            return limit
    raise ConfigError("model.lora.r", f"vLLM serves LoRA adapters up to rank {LORA_RANK_LIMITS[-1]}, got {rank}")


def replica_gpus(device_index: int | None, tensor_parallel_size: int, visible: str | None) -> str | None:
    """``CUDA_VISIBLE_DEVICES`` for the vLLM replica of the process that uses GPU ``device_index``
    (its DDP local rank's ``cuda:N``): GPUs ``N x tp`` to ``N x tp + tp - 1`` of those this process
    sees (``visible``, the parent's ``CUDA_VISIBLE_DEVICES``; None: all, numbered from 0), so that
    ranks never share a GPU. None (inherit) off GPUs.

    Raises:
        ConfigError: the replica would need GPUs this process cannot see.
    """
    if device_index is None:
        return None
    start = device_index * tensor_parallel_size
    if visible is None:
        return ",".join(str(i) for i in range(start, start + tensor_parallel_size))
    ids = [v.strip() for v in visible.split(",") if v.strip()]
    if start + tensor_parallel_size > len(ids):
        raise ConfigError(
            "translation.engine.tensor_parallel_size",
            f"the vLLM replica of cuda:{device_index} needs GPUs {start}-{start + tensor_parallel_size - 1} of "
            f"CUDA_VISIBLE_DEVICES={visible}; run devices x tensor_parallel_size <= {len(ids)} GPUs per node",
        )
    return ",".join(ids[start : start + tensor_parallel_size])


def vllm_for_model(
    model,
    tokenizer,
    model_path: str,
    settings: GenerationSettings,
    engine: EngineSettings,
    key: str,
    lora_path: str | None = None,
    lora_rank: int | None = None,
) -> VLLMGenerator:
    """A :class:`VLLMGenerator` serving ``model_path`` like ``model`` (a loaded HF model) runs: its
    dtype (for ``engine.dtype: auto``), its end tokens, and on a GPU the replica's own GPUs
    (:func:`replica_gpus` of ``model``'s ``cuda:N``)."""
    from selftt.modules.end_tokens import end_token_ids
    from selftt.modules.packaged_models import resolve_model_path

    model_path = resolve_model_path(str(model_path), key)
    dtype = str(getattr(model, "dtype", "float32")).removeprefix("torch.")
    device = getattr(model, "device", None)
    index = (device.index or 0) if getattr(device, "type", None) == "cuda" else None
    gpus = replica_gpus(index, engine.tensor_parallel_size, os.environ.get("CUDA_VISIBLE_DEVICES"))
    end_ids = end_token_ids(model, tokenizer)
    return VLLMGenerator(
        model_path, tokenizer, end_ids, settings, engine, dtype, key, gpus=gpus, lora_path=lora_path, lora_rank=lora_rank
    )


def _die_with_parent() -> None:
    """In the worker, before it starts (Linux): SIGTERM when selftt's process ends, however it ends
    (a kill -9 included), so that no vLLM engine outlives the run that started it."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _read_line(process: subprocess.Popen, timeout: float | None) -> str | None:
    """One line of the worker's answers ('' when it ended; None when ``timeout`` seconds passed:
    then it is killed)."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        process.kill()
        reader.join()
        return None
    return result[0] if result else ""
