"""Checkpoint files written by atomic replace and read without unpickling arbitrary objects."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from selftt.errors import DataError
from selftt.utils.atomic import save_atomic

log = logging.getLogger(__name__)


def _is_local(path: _PATH) -> bool:
    return "://" not in str(path) or str(path).startswith("file://")


def load_weights_only(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)``; a bad file is a ``DataError``.

    selftt's checkpoints hold tensors and plain Python values only, so refusing everything else
    costs nothing and means a checkpoint from elsewhere cannot run code when it is read.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "checkpoint file not found")
    try:
        with path.open("rb") as f:
            checkpoint = torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise DataError(
            path,
            "refused by torch.load(weights_only=True): a corrupt file or one holding Python objects "
            f"besides tensors and plain values ({_unpickler_reason(err)})",
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(path, f"not a readable checkpoint (truncated or corrupt?): {first[:200]}") from err
    if not isinstance(checkpoint, dict):
        raise DataError(path, f"expected a checkpoint dictionary, found {type(checkpoint).__name__}")
    return checkpoint


def _unpickler_reason(err: Exception) -> str:
    """The informative line of torch's long weights-only message."""
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(boilerplate)]
    return (useful or lines or [type(err).__name__])[0][:200]


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO`` with atomic local writes and ``weights_only=True`` reads.

    Lightning's own writer moves a temporary file from the system temp folder into place, which
    is a copy (not atomic) across filesystems and is not fsynced. Remote paths (``s3://`` ...)
    keep Lightning's behaviour for writing.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any = None) -> None:
        if storage_options is not None or not _is_local(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        save_atomic(checkpoint, str(path).removeprefix("file://"))

    def load_checkpoint(
        self,
        path: _PATH,
        map_location: Callable | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        if weights_only is False:
            log.warning("selftt reads checkpoints with weights_only=True; ignoring weights_only=False")
        if not _is_local(path):
            fs = get_filesystem(path)
            if not fs.exists(path):
                raise DataError(path, "checkpoint file not found")
            return super().load_checkpoint(path, map_location=map_location, weights_only=True)
        return load_weights_only(str(path).removeprefix("file://"), map_location=map_location)
