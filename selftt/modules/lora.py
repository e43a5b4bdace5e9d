"""LoRA settings and attaching (or loading) adapters with peft."""

from __future__ import annotations

from dataclasses import dataclass, field

from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from transformers import PreTrainedModel

from selftt.config_checks import check_range
from selftt.errors import ConfigError


@dataclass
class LoraSettings:
    """LoRA adapter hyper-parameters (peft ``LoraConfig``)."""

    r: int = 16
    """Rank of the low-rank update."""
    alpha: int = 32
    """Scaling numerator: the update is scaled by alpha / r."""
    dropout: float = 0.05
    """Dropout on the adapter input."""
    target_modules: list[str] | str = field(default="all-linear")
    """Module names to adapt, or 'all-linear' for every linear layer except the output head."""

    def validate(self, key: str = "model.lora") -> None:
        check_range(f"{key}.r", self.r)
        check_range(f"{key}.dropout", self.dropout)

    def to_peft(self) -> LoraConfig:
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            task_type="CAUSAL_LM",
        )


def attach_lora(
    model: PreTrainedModel,
    settings: LoraSettings,
    quantized: bool,
    gradient_checkpointing: bool,
    adapter_path: str | None = None,
) -> PeftModel:
    """Freeze ``model`` and wrap it with a trainable LoRA adapter (new, or read from ``adapter_path``)."""
    if quantized:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    if gradient_checkpointing:
        kwargs = {"use_reentrant": False}
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x renamed it
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
        model.enable_input_require_grads()
    if adapter_path is not None:
        try:
            return PeftModel.from_pretrained(model, adapter_path, is_trainable=True)
        except (OSError, ValueError) as err:
            raise ConfigError("model.adapter_path", f"could not load a PEFT adapter: {err}") from err
    try:
        return get_peft_model(model, settings.to_peft())
    except ValueError as err:
        raise ConfigError("model.lora.target_modules", str(err)) from err
