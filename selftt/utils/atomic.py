"""Writing files and folders so that a crash never leaves a half-written one in place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_file_atomic(path: str | Path, write: Callable[[Any], None]) -> None:
    """Let ``write`` fill a binary temporary file beside ``path``, fsync it, rename it into place.

    A process killed at any moment leaves either the previous file or the complete new one at
    ``path`` (and at worst a ``.<name>.*.tmp`` file that nothing reads).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600, as a plain open() would have made it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _usual_permissions(folder: Path) -> None:
    """``folder`` and everything in it readable as a plain ``mkdir``/``open`` would have made them
    (``mkdtemp`` and ``mkstemp`` make them private to the owner): others on a shared cluster can
    read exported models and results where the umask allows."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for item in folder.rglob("*"):
        if not item.is_symlink():
            os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)


def write_text_atomic(path: str | Path, text: str) -> None:
    """``text`` as UTF-8, written atomically."""
    write_file_atomic(path, lambda f: f.write(text.encode("utf-8")))


def write_json_atomic(path: str | Path, data: object) -> None:
    """``data`` as indented JSON, written atomically."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))


def write_jsonl_atomic(path: str | Path, records: list[object]) -> None:
    """One JSON object per line, written atomically."""
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_dir_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary folder beside ``path``, then swap it into place.

    An earlier folder at ``path`` is replaced only after the new one is complete. The folder
    and its files get the permissions the umask gives plain ones (not ``mkdtemp``'s 0700).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        write(tmp)
        _usual_permissions(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported on every platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_atomic(obj: Any, path: str | Path) -> None:
    """``torch.save(obj)`` written atomically."""
    import torch  # here: the JSON writers above need no torch

    write_file_atomic(path, lambda f: torch.save(obj, f))
