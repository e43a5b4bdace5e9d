"""The (Q)LoRA causal-LM LightningModule and model loading."""

from selftt.modules.causal_lm import SelfTTModule
from selftt.modules.lora import LoraSettings

__all__ = ["LoraSettings", "SelfTTModule"]
