"""Loading a Hugging Face causal LM and its tokenizer, quantized to 4 bit or not."""

from __future__ import annotations

import logging
import pickle
import warnings
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import torch
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from selftt.errors import ConfigError
from selftt.modules.packaged_models import is_packaged, packaged_spec, resolve_model_path

log = logging.getLogger(__name__)

Quantization = Literal["4bit", "none", "auto"]
DType = Literal["auto", "float32", "bfloat16", "float16"]

_LOCAL_PREFIXES = ("/", "./", "../", "~", ".\\")


@runtime_checkable
class TokenizerSource(Protocol):
    """A model that hands its tokenizer object to the data module (``SelfTTModule``): one
    tokenizer per process, shared by the data and the model."""

    model_name_or_path: str

    def shared_tokenizer(self) -> PreTrainedTokenizerBase:
        """The model's tokenizer, loaded on first use."""
        ...


def check_model_path(name_or_path: str, key: str = "model.model_name_or_path") -> None:
    """Fail early, naming ``key``, when a local model path does not exist.

    A value that cannot be a hub id ('org/name') -- it starts like a filesystem path or has
    more than one '/' -- must exist locally.
    """
    if not name_or_path:
        raise ConfigError(key, "is empty; expected a Hugging Face model id or a local folder")
    if is_packaged(name_or_path):
        packaged_spec(name_or_path, key)
        return
    looks_local = name_or_path.startswith(_LOCAL_PREFIXES) or name_or_path.count("/") > 1
    if looks_local and not Path(name_or_path).expanduser().exists():
        raise ConfigError(key, f"model path '{name_or_path}' does not exist")


def _load_error(key: str, what: str, name_or_path: str, err: Exception) -> ConfigError:
    """transformers' multi-line loading errors as one line naming the config key to change."""
    text = " ".join(str(err).split())
    if "trust_remote_code" in text:
        return ConfigError(
            "model.trust_remote_code",
            f"'{name_or_path}' ships its own model code, which selftt runs only with "
            "model.trust_remote_code: true (read that code first)",
        )
    if isinstance(err, SafetensorError):
        return ConfigError(
            key,
            f"could not load {what} from '{name_or_path}': a .safetensors weights file is damaged or "
            f"incomplete (an interrupted download or copy? fetch it again): {text[:200]}",
        )
    if isinstance(err, pickle.UnpicklingError):
        return ConfigError(
            key,
            f"refused to load {what} from '{name_or_path}': its weights are a pickle that "
            "torch.load(weights_only=True) will not read (convert them to safetensors)",
        )
    return ConfigError(key, f"could not load {what} from '{name_or_path}': {text[:300]}")


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False, key: str = "model.model_name_or_path"):
    """The model's tokenizer, with a pad token (the EOS token when it has none)."""
    check_model_path(name_or_path, key)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            resolve_model_path(name_or_path, key), trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as err:
        raise _load_error(key, "a tokenizer", name_or_path, err) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def resolve_dtype(dtype: DType, device: torch.device) -> torch.dtype:
    """``auto`` is bfloat16 on a GPU that supports it and float32 elsewhere (bf16 is slow on CPU)."""
    if dtype != "auto":
        return getattr(torch, dtype)
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def probe_4bit(device: torch.device) -> bool:
    """Does a bitsandbytes NF4 layer run forward *and* backward on ``device``?

    A functional check rather than a version check: it catches a missing CUDA build of
    bitsandbytes as well as a CPU backend without a backward pass.
    """
    return probe_4bit_error(device) is None


def probe_4bit_error(device: torch.device) -> str | None:
    """Why a bitsandbytes NF4 layer cannot train on ``device``, as one short line; None if it can."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import bitsandbytes as bnb

            layer = bnb.nn.Linear4bit(64, 64, bias=False, compute_dtype=torch.float32, quant_type="nf4")
            layer = layer.to(device)
            disable_cpu_weight_repacking(layer)
            x = torch.randn(2, 64, device=device, requires_grad=True)
            layer(x).sum().backward()
            if x.grad is None or not bool(torch.isfinite(x.grad).all()):
                return "its backward pass gives no finite gradient"
            return None
    except Exception as err:  # noqa: BLE001 - any failure means "cannot use 4 bit here"
        log.info("bitsandbytes 4-bit probe failed on %s: %s", device, err)
        reason = " ".join(f"{type(err).__name__}: {err}".split())  # bitsandbytes' messages span lines
        return reason if len(reason) <= 200 else reason[:197] + "..."


def resolve_quantization(quantization: Quantization, device: torch.device) -> Literal["4bit", "none"]:
    """``auto`` picks 4-bit QLoRA on a CUDA device where the probe passes, else full-precision LoRA.

    On CPU 4-bit works (and can be asked for explicitly) but is slower than fp32 LoRA.
    """
    if quantization not in ("4bit", "none", "auto"):
        raise ConfigError("model.quantization", f"got '{quantization}'; expected one of 4bit, none, auto")
    if quantization == "auto":
        return "4bit" if device.type == "cuda" and probe_4bit(device) else "none"
    reason = probe_4bit_error(device) if quantization == "4bit" else None
    if reason is not None:
        raise ConfigError(
            "model.quantization",
            f"4bit was asked for, but bitsandbytes cannot train a 4-bit layer on {device} ({reason}); "
            "use 'none' or 'auto'",
        )
    return quantization


def disable_cpu_weight_repacking(model: torch.nn.Module) -> int:
    """Stop bitsandbytes from repacking 4-bit weights into a CPU format that has no backward.

    On CPUs with AVX512-BF16/AMX, the first no-grad eval forward of a ``Linear4bit``
    (validation, ``generate``) repacks its weight in place; afterwards gradients through the
    base layers are silently ``None``. Returns the number of layers changed.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:
        return 0
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False
    return len(layers)


def nf4_config(compute_dtype: torch.dtype):
    """QLoRA's quantization (Dettmers et al. 2023): 4-bit NormalFloat weights with double
    quantization of the scales, matrix multiplies in ``compute_dtype``."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def load_causal_lm(
    name_or_path: str,
    quantization: Literal["4bit", "none"],
    device: torch.device,
    dtype: torch.dtype,
    trust_remote_code: bool = False,
    key: str = "model.model_name_or_path",
) -> PreTrainedModel:
    """Load the base model onto ``device`` (4-bit NF4 with double quantization, or ``dtype``)."""
    check_model_path(name_or_path, key)
    kwargs: dict = {"dtype": dtype, "trust_remote_code": trust_remote_code}
    if quantization == "4bit":
        kwargs["quantization_config"] = nf4_config(dtype)
        kwargs["device_map"] = {"": device}
    try:
        model = AutoModelForCausalLM.from_pretrained(resolve_model_path(name_or_path, key), **kwargs)
    except (OSError, ValueError, pickle.UnpicklingError, SafetensorError) as err:
        raise _load_error(key, "a causal LM", name_or_path, err) from err
    if quantization == "4bit":
        disable_cpu_weight_repacking(model)
    else:
        model.to(device)
    return model
