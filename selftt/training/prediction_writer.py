"""Writes every prediction of ``predict`` as JSONL beside the run."""

from __future__ import annotations

import json
from pathlib import Path

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_info

from selftt.utils.atomic import write_jsonl_atomic
from selftt.utils.paths import check_path_component


class PredictionWriter(BasePredictionWriter):
    """Appends each predicted batch to ``<run dir>/<dirname>/rank<R>.jsonl`` as it comes, then
    (rank 0, after all ranks are done) merges them into ``predictions.jsonl`` ordered by set and id.
    """

    def __init__(self, dirname: str = "predictions") -> None:
        """
        Args:
            dirname: Folder inside the run directory (``trainer.log_dir``).
        """
        super().__init__(write_interval="batch")
        self.dirname = check_path_component("prediction_writer.dirname", dirname)
        self.path: Path | None = None

    def _folder(self, trainer: Trainer) -> Path:
        return Path(trainer.log_dir or trainer.default_root_dir) / self.dirname

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = self._folder(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"rank{trainer.global_rank}.jsonl").write_text("", encoding="utf-8")

    def write_on_batch_end(
        self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx
    ):
        shard = self._folder(trainer) / f"rank{trainer.global_rank}.jsonl"
        with shard.open("a", encoding="utf-8") as f:
            for record in prediction:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = self._folder(trainer)  # on every rank: trainer.log_dir is a collective under DDP
        trainer.strategy.barrier("selftt-predictions")
        if not trainer.is_global_zero:
            return
        records = []
        for shard in sorted(folder.glob("rank*.jsonl")):
            records += [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines() if line]
        records.sort(key=lambda r: (r.get("set", ""), str(r.get("id", ""))))
        self.path = folder / "predictions.jsonl"
        write_jsonl_atomic(self.path, records)
        for shard in folder.glob("rank*.jsonl"):
            shard.unlink()
        rank_zero_info(f"selftt: {len(records)} predictions written to {self.path}")
