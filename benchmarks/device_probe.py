"""Does the exported adapter reload to the logits the trained model gave? (device check)

``ProbeLogits`` (a Lightning callback the device check adds to ``python -m selftt fit``) writes
the trained model's logits for a fixed probe text at the end of fit, in eval mode, as
safetensors. ``compare_reloaded`` then loads the base model again and the exported PEFT adapter
onto it, twice: the way selftt loads a model with an adapter (``load_causal_lm`` +
``attach_lora``, which for QLoRA also runs ``prepare_model_for_kbit_training``), and the plain
PEFT way (``PeftModel.from_pretrained`` on the freshly loaded base), and compares their logits
on the same text with the saved ones.

    python benchmarks/device_probe.py --model DIR --adapter DIR --probe FILE --mode qlora --device cuda
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer

PROBE_TEXT = (
    "Question: Which river flows through the city that hosted the conference?\n"
    "Context: The conference was held in Cologne, a city on the Rhine.\nAnswer:"
)


def probe_logits(model, tokenizer, device) -> torch.Tensor:  # noqa: F821 - torch imported lazily
    """float32 logits (1 x tokens x vocabulary) of ``PROBE_TEXT``, no gradient, eval mode."""
    import torch

    enc = tokenizer(PROBE_TEXT, return_tensors="pt").to(device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(**enc).logits.float().cpu()
    finally:
        model.train(was_training)


class ProbeLogits(Callback):
    """At the end of fit (global rank 0), writes to ``output_file`` the trained model's logits for
    ``PROBE_TEXT`` and the logits after the adapter, exported with selftt's own
    ``export_adapter``, is loaded back into the same model as a second adapter: same process,
    same base weights, same kernels, so any difference is the export's."""

    def __init__(self, output_file: str) -> None:
        self.output_file = output_file

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        import tempfile

        from safetensors.torch import save_file

        if not trainer.is_global_zero:
            return
        model = pl_module.model
        logits = probe_logits(model, pl_module.tokenizer, pl_module.device)
        with tempfile.TemporaryDirectory() as tmp:
            pl_module.export_adapter(tmp)
            model.load_adapter(tmp, adapter_name="reloaded")
            model.set_adapter("reloaded")
            try:
                reloaded = probe_logits(model, pl_module.tokenizer, pl_module.device)
            finally:
                model.set_adapter("default")
                model.delete_adapter("reloaded")
        save_file({"logits": logits.contiguous(), "reloaded_in_process": reloaded.contiguous()}, self.output_file)


def difference(a, b) -> dict:
    """Largest absolute difference, relative to the largest |logit|, and argmax agreement."""
    diff = (a - b).abs().max().item()
    scale = max(a.abs().max().item(), 1e-12)
    same_argmax = (a.argmax(-1) == b.argmax(-1)).float().mean().item()
    return {"max_abs_diff": diff, "relative": diff / scale, "argmax_agreement": same_argmax}


def compare_reloaded(model_dir: str, adapter: str, probe: str, mode: str, device_name: str) -> dict:
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file

    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.modules.lora import LoraSettings, attach_lora

    device = torch.device(device_name)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    quantization = "4bit" if mode == "qlora" else "none"
    probes = load_file(probe)
    saved = probes["logits"]
    tokenizer = load_tokenizer(adapter)
    result = {"in_process_reload": difference(saved, probes["reloaded_in_process"])}
    base = load_causal_lm(model_dir, quantization, device, dtype)
    model = attach_lora(
        base, LoraSettings(r=16, alpha=32, dropout=0.0), quantization == "4bit", True, adapter
    )
    result["selftt_reload"] = difference(saved, probe_logits(model, tokenizer, device))
    del model, base
    base = load_causal_lm(model_dir, quantization, device, dtype)
    model = PeftModel.from_pretrained(base, adapter)
    result["peft_reload"] = difference(saved, probe_logits(model, tokenizer, device))
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--probe", required=True)
    p.add_argument("--mode", choices=["qlora", "lora"], required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    result = compare_reloaded(args.model, args.adapter, args.probe, args.mode, args.device)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
