"""The LightningModule: a (Q)LoRA-adapted Hugging Face causal LM trained on answer tokens."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
import transformers.modeling_utils
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.trainer.states import TrainerFn
from torchmetrics import MeanMetric
from transformers import PreTrainedTokenizerBase

from selftt.errors import ConfigError, DataError, SelfTTError
from selftt.modules.engines.protocol import TextGenerator
from selftt.modules.engines.settings import EngineSettings
from selftt.modules.epoch_resume import continue_unfinished_epoch
from selftt.modules.generation import BatchedGenerator, GenerationSettings
from selftt.modules.loading import (
    DType,
    Quantization,
    check_model_path,
    load_causal_lm,
    load_tokenizer,
    resolve_dtype,
    resolve_quantization,
)
from selftt.modules.lora import LoraSettings, attach_lora
from selftt.modules.packaged_models import resolve_model_path

log = logging.getLogger(__name__)

MASK_LOGITS_TO_KEEP = hasattr(transformers.modeling_utils, "slice_logits_to_keep")
"""Does this transformers take a boolean batch x length ``logits_to_keep`` (5.24 does, 5.17 not)?"""


def answer_loss(
    model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Mean next-token cross-entropy over the answer tokens (labels != -100), as Hugging Face
    computes it, but with logits only where a label follows.

    The full logits are batch x length x vocabulary (262k for Gemma 3: ~1 GB for 8 x 112 tokens
    in float32). Where transformers accepts a boolean ``logits_to_keep`` mask (batch x length;
    versions with ``modeling_utils.slice_logits_to_keep``) only the answer positions are
    projected; older versions take a 1-D index tensor, so the positions where any row has an
    answer token are projected and the others dropped after. The loss is the same either way.
    """
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    if MASK_LOGITS_TO_KEEP:
        out = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=keep)
        logits, targets = out.logits, labels[:, 1:][keep[:, :-1]]
    else:
        columns = keep.any(dim=0).nonzero().squeeze(1)
        out = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=columns)
        logits, targets = out.logits, labels[:, columns + 1][keep[:, columns]]
        if logits.shape[1] == columns.numel():
            logits = logits[keep[:, columns]]
    if logits.dim() == 3:  # a model that ignores logits_to_keep: shift over the full sequence
        logits, targets = logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(logits.float(), targets, ignore_index=-100)



@runtime_checkable
class NamedEvalSets(Protocol):
    """A data module that names its loss-evaluated sets (``SelfTTDataModule``), for the logged keys."""

    def eval_set_names(self, stage: str) -> list[str]:
        """Names of the loss-evaluated sets of ``stage`` ('val' or 'test'), in dataloader order."""
        ...


class SelfTTModule(LightningModule):
    """A causal LM with a LoRA adapter: 4-bit QLoRA on GPU, LoRA on full-precision weights elsewhere.

    The base model is built in ``configure_model`` so that under DDP each rank loads its own
    copy straight onto its own device. Checkpoints hold only the adapter weights (plus the
    optimizer state Lightning adds); the base weights are reloaded from ``model_name_or_path``.
    """

    def __init__(
        self,
        model_name_or_path: str,
        quantization: Quantization = "auto",
        dtype: DType = "auto",
        lora: LoraSettings = LoraSettings(),  # noqa: B008 - a plain dataclass, copied below
        adapter_path: str | None = None,
        gradient_checkpointing: bool = False,
        trust_remote_code: bool = False,
        generation: GenerationSettings = GenerationSettings(),  # noqa: B008 - a plain dataclass
        optimizer: OptimizerCallable = torch.optim.AdamW,
        scheduler: LRSchedulerCallable | None = None,
        engine: EngineSettings = EngineSettings(),  # noqa: B008 - a plain dataclass
    ) -> None:
        """
        Args:
            model_name_or_path: Hugging Face model id or local folder of the base causal LM.
            quantization: '4bit' (NF4 + double quantization, QLoRA), 'none' (LoRA on
                full-precision weights) or 'auto' (4bit where bitsandbytes passes a
                forward/backward probe on a CUDA device, else none; none under
                ``trainer.strategy: fsdp``, which cannot shard 4-bit weights).
            dtype: Weight/compute dtype; 'auto' is bfloat16 on a GPU that supports it, else float32.
            lora: LoRA rank, alpha, dropout and target modules.
            adapter_path: Start from this PEFT adapter folder instead of a fresh adapter.
            gradient_checkpointing: Recompute activations in backward (non-reentrant) to save memory.
            trust_remote_code: Allow model code from the hub to run. Off unless you set it.
            generation: Decoding and batching for generation (``predict``, translation, evaluation).
            optimizer: Optimizer over the adapter parameters (class_path + init_args in the config).
            scheduler: Optional learning-rate scheduler, stepped every optimizer step.
            engine: The engine ``validate``, ``test`` and ``predict`` generate with: ``hf`` (this
                process) or ``vllm`` (a vLLM worker serving the base model and, when the adapter
                was loaded from ``adapter_path`` or ``--ckpt_path``, that adapter as a LoRA). Validation
                inside ``fit`` always uses ``hf``: the trained adapter changes every step and the
                training process holds the device.
        """
        super().__init__()
        if quantization not in ("4bit", "none", "auto"):
            raise ConfigError("model.quantization", f"got '{quantization}'; expected one of 4bit, none, auto")
        lora.validate()
        generation.validate("model.generation")
        engine.validate("model.engine")
        check_model_path(model_name_or_path)  # fail before any run directory is made
        # pypi:// models are converted here, once, before DDP starts the other ranks
        self.model_path = resolve_model_path(model_name_or_path)
        if adapter_path is not None and not Path(adapter_path).expanduser().is_dir():
            raise ConfigError(
                "model.adapter_path", f"'{adapter_path}' is not a folder holding a PEFT adapter"
            )
        self.model_name_or_path = model_name_or_path
        self.quantization = quantization
        self.dtype_name = dtype
        self.lora = lora
        self.adapter_path = adapter_path
        self.checkpoint_step: int | None = None
        """The training step of the checkpoint ``validate``/``test``/``predict --ckpt_path`` loaded."""
        self.gradient_checkpointing = gradient_checkpointing
        self.trust_remote_code = trust_remote_code
        self.generation = generation
        self.engine = engine
        self._served = None
        """The vLLM worker of ``validate``/``test``/``predict`` (``ServedAdapter``), started on first use."""
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.save_hyperparameters(ignore=["optimizer", "scheduler", "lora", "generation", "engine"])
        # plain types only: checkpoints load with weights_only=True
        self.hparams["lora"] = asdict(lora)
        self.hparams["generation"] = asdict(generation)
        self.hparams["engine"] = asdict(engine)
        self.model = None
        self.tokenizer = None
        self.resolved_quantization: str | None = None
        self.strict_loading = False  # checkpoints hold the adapter only
        self.eval_loss = torch.nn.ModuleDict()  # '<stage>__<set>' -> MeanMetric, made on first use

    # ------------------------------------------------------------------ model
    def configure_model(self) -> None:
        """Load tokenizer, base model and adapter onto this rank's device (idempotent)."""
        if self.model is not None:
            return
        device = self.trainer.strategy.root_device if self._trainer is not None else torch.device("cpu")
        self.shared_tokenizer()
        sharded = self._trainer is not None and isinstance(self.trainer.strategy, FSDPStrategy)
        quantization = "none" if sharded and self.quantization == "auto" else resolve_quantization(self.quantization, device)
        dtype = resolve_dtype(self.dtype_name, device)
        base = load_causal_lm(self.model_name_or_path, quantization, device, dtype, self.trust_remote_code)
        self.model = attach_lora(
            base,
            self.lora,
            quantized=quantization == "4bit",
            gradient_checkpointing=self.gradient_checkpointing,
            adapter_path=self.adapter_path,
        )
        self.model.train()
        self.resolved_quantization = quantization
        trainable, total = self.model.get_nb_trainable_parameters()
        log.info(
            "loaded %s (%s, %s): %d trainable of %d parameters",
            self.model_name_or_path,
            quantization,
            dtype,
            trainable,
            total,
        )

    def shared_tokenizer(self) -> PreTrainedTokenizerBase:
        """The tokenizer, loaded on first use: the data module's ``setup`` (which runs before
        ``configure_model``) takes this same object, so one copy serves data and model."""
        if self.tokenizer is None:
            self.tokenizer = load_tokenizer(self.model_name_or_path, self.trust_remote_code)
        return self.tokenizer

    def _require_model(self) -> None:
        if self.model is None:
            raise SelfTTError("the model is not loaded yet: call configure_model() first")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels=None):
        self._require_model()
        return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)

    # ------------------------------------------------------------------ steps
    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return answer_loss(self.model, batch["input_ids"], batch["attention_mask"], batch["labels"])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        size = batch["input_ids"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/tokens", (batch["labels"] != -100).sum().float(), reduce_fx="sum", batch_size=size)
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> None:
        """Mean answer-token loss per validation set (``val/<set>/loss``) and over all (``val/loss``)."""
        self._eval_loss("val", batch, dataloader_idx)

    def test_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> None:
        """As validation, logged as ``test/<set>/loss`` and ``test/loss``."""
        self._eval_loss("test", batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        self._log_overall_loss("val")

    def on_test_epoch_end(self) -> None:
        self._log_overall_loss("test")

    def _eval_loss(self, stage: str, batch: dict[str, Any], dataloader_idx: int) -> None:
        loss = self._loss(batch).detach()
        size = batch["input_ids"].shape[0]
        name = self._eval_set_name(stage, dataloader_idx)
        key = f"{stage}__{name}"
        for metric_key in (key, f"{stage}__all"):
            if metric_key not in self.eval_loss:
                self.eval_loss[metric_key] = MeanMetric().to(loss.device)
            self.eval_loss[metric_key].update(loss, weight=size)
        self.log(
            f"{stage}/{name}/loss",
            self.eval_loss[key],
            batch_size=size,
            add_dataloader_idx=False,
            metric_attribute=f"eval_loss.{key}",
        )

    def _log_overall_loss(self, stage: str) -> None:
        overall = self.eval_loss[f"{stage}__all"] if f"{stage}__all" in self.eval_loss else None  # noqa: SIM401 (ModuleDict has no get)
        if overall is not None and overall.update_called:
            self.log(f"{stage}/loss", overall.compute(), prog_bar=True)  # compute() syncs ranks
            overall.reset()

    def _eval_set_name(self, stage: str, dataloader_idx: int) -> str:
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        names = datamodule.eval_set_names(stage) if isinstance(datamodule, NamedEvalSets) else []
        return names[dataloader_idx] if names else f"set{dataloader_idx}"

    # ------------------------------------------------------------------ generation
    def generator(self) -> TextGenerator:
        """The generator over this model with its adapter: ``model.engine`` in ``validate``,
        ``test`` and ``predict``, selftt's batched generator in ``fit``."""
        self._require_model()
        fitting = self._trainer is not None and self.trainer.state.fn == TrainerFn.FITTING
        if self.engine.name == "hf" or fitting:
            return BatchedGenerator(self.model, self.tokenizer, self.generation)
        if self._served is None:
            # on use: the vLLM side imports this package's generation and loading modules
            from selftt.modules.engines.served_adapter import ServedAdapter

            self._served = ServedAdapter.of_module(self)
        return self._served.generator

    def teardown(self, stage: str) -> None:
        """Stop the vLLM worker and remove the adapter copy it served, if any."""
        if self._served is not None:
            self._served.close()
            self._served = None

    def predict_step(
        self, batch: list[dict[str, Any]], batch_idx: int, dataloader_idx: int = 0
    ) -> list[dict]:
        """Greedy answers to the prompts of the test sets: one record per prompt."""
        first = batch[0] if batch else {}
        texts = self.generator().generate(
            [item["prompt"] for item in batch],
            stop=first.get("stop") or (),
            max_new_tokens=[item.get("max_new_tokens") or self.generation.max_new_tokens for item in batch],
            add_special_tokens=first.get("add_special_tokens", True),
            progress=False,
        )
        keep = ("id", "set", "lang", "prompt", "target")
        return [
            {**{k: item[k] for k in keep if k in item}, "generation": text}
            for item, text in zip(batch, texts, strict=True)
        ]

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise SelfTTError("no trainable parameters: the LoRA adapter matched no module")
        optimizer = self.optimizer_factory(params)
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ------------------------------------------------------------------ checkpoints
    def trainable_state_keys(self) -> set[str]:
        return {name for name, p in self.named_parameters() if p.requires_grad}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep only the adapter weights; record what base model they belong to. Written where
        ``max_steps`` cut an epoch short, the checkpoint resumes that epoch where it stopped
        (``continue_unfinished_epoch``), as a run that never stopped would go on."""
        if self._trainer is not None and self.trainer.state.fn == "fit":
            continue_unfinished_epoch(checkpoint, self.trainer.num_training_batches)
        keep = self.trainable_state_keys()
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in keep}
        checkpoint["selftt"] = {
            "base_model": self.model_name_or_path,
            "quantization": self.resolved_quantization,
            "lora": asdict(self.lora),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Refuse a checkpoint whose adapter does not match this model's adapter; remember its step."""
        self._require_model()
        expected = self.trainable_state_keys()
        got = set(checkpoint.get("state_dict", {}))
        missing = sorted(expected - got)
        if missing:
            path = self.trainer.ckpt_path if self._trainer is not None else None
            raise DataError(
                path or "checkpoint",
                f"lacks {len(missing)} adapter weights of this model (e.g. '{missing[0]}'): "
                "was it written for another base model or LoRA setting?",
            )
        self.checkpoint_step = int(checkpoint.get("global_step") or 0)

    # ------------------------------------------------------------------ export
    def export_adapter(self, directory: str | Path) -> Path:
        """Write the adapter in PEFT format (``PeftModel.from_pretrained`` loads it) and the tokenizer."""
        self._require_model()
        directory = Path(directory)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        return directory
