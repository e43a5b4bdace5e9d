"""The on-disk cache of self-translations: append-only, crash-safe, keyed by what changes them.

A cache folder holds the translations of one (model, prompt and shots, decoding, task,
language pair). Its name ends in a hash of those inputs, written out in ``meta.json``. Inside,
``part-*.jsonl`` files hold one record per translated example::

    {"id": ..., "src_hash": ..., "lang": "de", "fields": {"question": ...}, "finish": {...}}

Records are appended and fsync'ed a chunk at a time, so a run killed at any moment loses at
most the chunk in flight: a last line cut short by the kill is ignored (and its example
translated again), while a damaged line anywhere else is an error, never training data.
``src_hash`` ties a record to the exact source text, so an edited source example is
translated again. Records hold no filter verdicts (those of older caches, ``reasons``, are
ignored): every translation is filtered once per run, on load, so changing a filter needs no
new translations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from selftt.errors import DataError
from selftt.utils.atomic import write_json_atomic
from selftt.utils.digest import file_sha256

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


def stable_hash(data: Any, length: int = 16) -> str:
    """Hex digest of ``data`` as canonical JSON."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def source_hash(example: dict, fields: tuple[str, ...]) -> str:
    """Hash of the text an example's translation depends on."""
    return stable_hash({f: example.get(f) for f in fields})


# files of a local model folder that change its translations: weights, configs, tokenizer
# (vocabularies, merges, chat templates) and model code
IDENTITY_SUFFIXES = (".safetensors", ".bin", ".gguf", ".json", ".model", ".txt", ".tiktoken", ".jinja", ".py")


def model_identity(name_or_path: str, model: Any, quantization: str | None) -> dict[str, Any]:
    """What identifies the weights that translate, as a JSON-able dict for the cache key.

    A local folder: the SHA-256 of the whole content of each of its files that matter
    (``IDENTITY_SUFFIXES``, top level), so weights changed in place, even at the same size,
    give a new key. Each file is read once and then remembered by path, size, mtime, ctime,
    inode and device (``selftt.utils.digest.file_sha256``): unchanged multi-GB models cost
    only a ``stat`` per run. A hub id: its resolved commit (``config._commit_hash``).

    Raises:
        OSError: a file of the folder cannot be read.
        RuntimeError: a file kept changing while it was being hashed.
    """
    identity: dict[str, Any] = {"model": name_or_path, "quantization": quantization}
    dtype = getattr(model, "dtype", None)
    identity["dtype"] = str(dtype) if dtype is not None else None
    folder = Path(name_or_path)
    if folder.is_dir():
        files = sorted(p for p in folder.iterdir() if p.suffix in IDENTITY_SUFFIXES and p.is_file())
        identity["files"] = {p.name: file_sha256(p) for p in files}
    else:
        config = getattr(model, "config", None)
        identity["revision"] = getattr(config, "_commit_hash", None)
        if identity["revision"] is None:
            log.warning(
                "no hub revision known for '%s'; its translation cache cannot tell "
                "its versions apart (use a local folder or a pinned revision)",
                name_or_path,
            )
    return identity


class TranslationCache:
    """One cache folder: ``<root>/<task>-<src>-<tgt>-<hash of key_inputs>``."""

    def __init__(self, root: str | Path, key_inputs: dict[str, Any]) -> None:
        self.key_inputs = {"format": CACHE_FORMAT, **key_inputs}
        self.key = stable_hash(self.key_inputs)
        name = f"{key_inputs['task']}-{key_inputs['src_lang']}-{key_inputs['tgt_lang']}-{self.key}"
        self.dir = Path(root) / name
        self.meta_path = self.dir / "meta.json"
        self.dropped_partial_lines = 0

    def open(self) -> TranslationCache:
        """Create the folder and ``meta.json``, or check an existing one belongs to this key."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.meta_path.exists():
            try:
                meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise DataError(self.meta_path, f"corrupt translation cache metadata ({err})") from err
            if meta.get("key") != self.key:
                raise DataError(self.meta_path, f"belongs to cache key {meta.get('key')!r}, not {self.key!r}")
        else:
            write_json_atomic(self.meta_path, {"key": self.key, "inputs": self.key_inputs})
        return self

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.jsonl"))

    def load(self) -> dict[tuple[str, str], dict[str, Any]]:
        """All complete records by (example id, source hash); the first where one was written twice."""
        records: dict[tuple[str, str], dict[str, Any]] = {}
        self.dropped_partial_lines = 0
        for part in self.parts():
            data = part.read_bytes()
            lines = data.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            elif lines:  # no newline at the end: the write of this line was cut short
                lines.pop()
                self.dropped_partial_lines += 1
                log.warning("%s: ignoring a last line cut short (an interrupted write)", part)
            for number, raw in enumerate(lines, start=1):
                record = self._parse(raw, part, number)
                records.setdefault((record["id"], record["src_hash"]), record)
        return records

    @staticmethod
    def _parse(raw: bytes, part: Path, number: int) -> dict[str, Any]:
        hint = "the translation cache is damaged; delete this file to translate its examples again"
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise DataError(part, f"{hint} ({err})", number) from err
        ok = (
            isinstance(record, dict)
            and isinstance(record.get("id"), str)
            and isinstance(record.get("src_hash"), str)
            and isinstance(record.get("fields"), dict)
            and all(isinstance(v, str) for v in record["fields"].values())
        )
        if not ok:
            raise DataError(part, f"{hint} (a record needs id, src_hash and string fields)", number)
        return record

    def writer(self) -> CacheWriter:
        """A new part file for this run (one writer per run: rank 0)."""
        return CacheWriter(self.dir / f"part-{time.time_ns()}-{os.getpid()}.jsonl")


class CacheWriter:
    """Appends records to one part file, flushed and fsync'ed after every ``write``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = None

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        if self._file is None:
            self._file = self.path.open("ab")
        payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        self._file.write(payload)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CacheWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
