"""Content digests of (large) files, computed once and remembered while the file is unchanged.

``file_sha256`` hashes a whole file and keeps the result in a small JSON memo under
``$SELFTT_HOME/digests`` (default ``~/.cache/selftt/digests``) and in the process, keyed by
the file's real path and its *signature*: size, ``mtime_ns``, ``ctime_ns``, inode and device.
Later calls only ``stat`` the file while the signature matches, so a multi-GB model is read
once, not on every run.

What is detected: any write through the file system, including one of the same size whose
mtime was put back with ``os.utime``: the kernel sets ``ctime`` on every write and metadata
change, and no system call can set it back. A file replaced by another (copy, rename, new
download) has a new inode or ctime. A file written during the timestamp granularity of the
hash (the "racy" case: two writes within one clock tick leave the same timestamps) is not
memoized until its timestamps are ``RACY_WINDOW_NS`` older than the hash, so it is hashed
again next time.

What is not detected: a change that restores size, mtime *and* ctime exactly, which needs
the system clock set back or raw writes to the block device, and file systems that do not
keep ``ctime`` (some FUSE or network mounts with client-side timestamps). Delete the memo
folder to force hashing again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from selftt.utils.atomic import write_json_atomic

log = logging.getLogger(__name__)

MEMO_FORMAT = 1
RACY_WINDOW_NS = 2_000_000_000  # covers 1 s timestamp granularity and coarse kernel clocks
_CHUNK = 8 << 20
_ANNOUNCE = 256 << 20
_ATTEMPTS = 3
_MEMO: dict[str, tuple[tuple[int, ...], str]] = {}  # real path -> (signature, sha256), this process


def selftt_home() -> Path:
    """selftt's cache folder: ``$SELFTT_HOME``, default ``~/.cache/selftt`` (not created here)."""
    return Path(os.environ.get("SELFTT_HOME", Path.home() / ".cache" / "selftt"))


def memo_dir() -> Path:
    """Where digests are remembered between runs: ``<selftt_home()>/digests``."""
    return selftt_home() / "digests"


def file_sha256(path: str | Path) -> str:
    """The SHA-256 (64 hex digits) of the whole content of the file at ``path``.

    The file is read only when no memo (in this process, or under ``memo_dir()``) has its
    current signature; see the module docstring for what a signature does and doesn't catch.
    A memo that cannot be written (read-only home) only costs hashing again next run.

    Raises:
        OSError: the file cannot be stat'ed or read (e.g. FileNotFoundError).
        RuntimeError: the file kept changing while it was being hashed (3 attempts).
    """
    real = os.path.realpath(path)
    for _ in range(_ATTEMPTS):
        before = os.stat(real)
        signature = _signature(before)
        known = _remembered(real, signature, before)
        if known is not None:
            return known
        if before.st_size > _ANNOUNCE:
            log.info(
                "hashing %s (%.1f GB) once, to tell its versions apart", real, before.st_size / 1e9
            )
        started = _now_ns()
        digest = _hash_file(real)
        if _signature(os.stat(real)) != signature:
            continue  # written while we read it: the digest is of no version of the file
        if _settled(before, started):
            _MEMO[real] = (signature, digest)
            _write_memo(real, signature, started, digest)
        return digest
    raise RuntimeError(f"{real} kept changing while selftt was hashing it; try again when it is written")


def _now_ns() -> int:
    return time.time_ns()


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _settled(st: os.stat_result, hashed_at_ns: int) -> bool:
    """True when the file's last change is clearly older than the hash, so a later write in
    the same clock tick cannot have left the same timestamps."""
    return max(st.st_mtime_ns, st.st_ctime_ns) < hashed_at_ns - RACY_WINDOW_NS


def _hash_file(real: str) -> str:
    sha = hashlib.sha256()
    with open(real, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _memo_path(real: str) -> Path:
    return memo_dir() / f"{hashlib.sha256(os.fsencode(real)).hexdigest()[:32]}.json"


def _remembered(real: str, signature: tuple[int, ...], st: os.stat_result) -> str | None:
    known = _MEMO.get(real)
    if known is not None and known[0] == signature:
        return known[1]
    try:
        memo = json.loads(_memo_path(real).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, unreadable or damaged: hash again
        return None
    ok = (
        isinstance(memo, dict)
        and memo.get("format") == MEMO_FORMAT
        and memo.get("path") == real
        and memo.get("signature") == list(signature)
        and isinstance(memo.get("hashed_at_ns"), int)
        and isinstance(memo.get("sha256"), str)
        and _settled(st, memo["hashed_at_ns"])
    )
    if not ok:
        return None
    _MEMO[real] = (signature, memo["sha256"])
    return memo["sha256"]


def _write_memo(real: str, signature: tuple[int, ...], hashed_at_ns: int, digest: str) -> None:
    memo = {
        "format": MEMO_FORMAT,
        "path": real,
        "signature": list(signature),
        "signature_fields": ["size", "mtime_ns", "ctime_ns", "inode", "device"],
        "hashed_at_ns": hashed_at_ns,
        "sha256": digest,
    }
    try:
        write_json_atomic(_memo_path(real), memo)
    except OSError as err:
        log.debug("cannot remember the digest of %s (%s); it is hashed again next run", real, err)
