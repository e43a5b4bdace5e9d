"""Data loading, the training mixture, tokenization and batching.

The classes are imported lazily: ``selftt.datamodules.loaders`` is used by the task specs
and should not pull in Lightning.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "DataComponent": "selftt.datamodules.components",
    "EvalSet": "selftt.datamodules.components",
    "SelfTTDataModule": "selftt.datamodules.datamodule",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'selftt.datamodules' has no attribute {name!r}")
