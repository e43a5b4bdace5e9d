"""The training mixture (source, self-translated, code-switched), tokenization and batching."""

from selftt.datamodules.components import DataComponent, EvalSet
from selftt.datamodules.datamodule import SelfTTDataModule

__all__ = ["DataComponent", "EvalSet", "SelfTTDataModule"]
