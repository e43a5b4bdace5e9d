"""Ends a multi-process run soon after one rank fails or dies, naming that rank.

Without it, the surviving ranks of a DDP run wait in their next collective (all-reduce,
barrier) until the process-group timeout, 30 minutes by default, and then print a stack trace
that does not say which rank went away.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from datetime import timedelta

import torch.distributed as dist
from lightning.pytorch import Callback, LightningModule, Trainer

from selftt.config_checks import check_range
from selftt.errors import ConfigError

_FAILED = "failed"


class RankWatchdog(Callback):
    """Watches the other ranks of a multi-process run from a background thread.

    Every rank bumps a heartbeat counter in the run's rendezvous store (a separate connection
    to the ``MASTER_ADDR:MASTER_PORT`` TCP store) every ``interval`` seconds. A rank that raises
    records its error there first. A rank then ends itself, with exit status 1 and one line
    naming the failed rank, when another rank recorded an error, when another rank's heartbeat
    has not moved for ``timeout`` seconds (it died, or is frozen), when a rank it launched has
    exited with an error, or when the store itself is gone (rank 0, which hosts it, died).
    Nothing runs in a single-process run.
    """

    def __init__(self, timeout: float = 120.0, interval: float = 2.0, enabled: bool = True) -> None:
        """
        Args:
            timeout: Seconds without a heartbeat after which another rank counts as dead.
            interval: Seconds between heartbeats and checks.
            enabled: Set false to switch the watchdog off.
        """
        check_range("watchdog.timeout", timeout)
        check_range("watchdog.interval", interval)
        if interval > timeout:
            raise ConfigError("watchdog.interval", f"must be > 0 and <= watchdog.timeout, got {interval}")
        self.timeout = timeout
        self.interval = interval
        self.enabled = enabled
        self._store: dist.Store | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trainer: Trainer | None = None
        self.rank = 0
        self.world_size = 1
        self._calls = 0  # every rank makes the same Trainer calls: keys of each call stay apart

    # ------------------------------------------------------------------ lifecycle
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if not self.enabled or trainer.world_size < 2 or self._thread is not None:
            return
        if not (dist.is_available() and dist.is_initialized()):
            return
        host, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
        if not host or not port:
            return
        self._trainer = trainer
        self.rank, self.world_size = trainer.global_rank, trainer.world_size
        client = dist.TCPStore(
            host, int(port), is_master=False, wait_for_workers=False,
            timeout=timedelta(seconds=max(10.0, 3 * self.interval)),
        )
        self._calls += 1
        self._store = dist.PrefixStore(f"selftt/watchdog/{self._calls}/", client)
        self._store.add(f"beat/{self.rank}", 1)
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="selftt-rank-watchdog", daemon=True)
        self._thread.start()

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """A rank that finished normally is not 'dead' while the others are still finishing."""
        if self._store is not None:
            with contextlib.suppress(Exception):  # the store may be gone at shutdown: nothing to report
                self._store.set(f"done/{self.rank}", "1")
        self._stop.set()
        self._thread = None
        self._store = None

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        """Tell the other ranks; if another rank failed first, report that rank instead."""
        if self._store is None:
            return
        self._stop.set()
        try:
            earlier = self._failure_of_another_rank() or self._exited_child()
            if earlier is None and self._store.add("failures", 1) == 1:  # the first failure is the cause
                text = " ".join(f"{type(exception).__name__}: {exception}".split())[:300]
                self._store.set(_FAILED, f"{self.rank}\t{text}")
        except Exception:  # noqa: BLE001 - the store is gone: rank 0 died first
            earlier = None if self.rank == 0 else "lost contact with rank 0, which hosts the rendezvous store"
        if earlier is not None:
            self._abort(earlier)

    # ------------------------------------------------------------------ the thread
    def _watch(self) -> None:
        last_seen = {r: (-1, time.monotonic()) for r in range(self.world_size) if r != self.rank}
        while not self._stop.wait(self.interval):
            try:
                self._store.add(f"beat/{self.rank}", 1)
                problem = self._failure_of_another_rank() or self._stale_rank(last_seen)
            except Exception as err:  # noqa: BLE001 - the store is unreachable
                if self._stop.is_set():
                    return
                problem = (
                    f"lost contact with rank 0, which hosts the rendezvous store "
                    f"({type(err).__name__}: {' '.join(str(err).split())[:120]})"
                )
            problem = problem or self._exited_child()
            if problem and not self._stop.is_set():
                self._abort(problem)

    def _failure_of_another_rank(self) -> str | None:
        if self._store is None or not self._store.check([_FAILED]):
            return None
        rank, _, message = self._store.get(_FAILED).decode("utf-8", "replace").partition("\t")
        if rank == str(self.rank):
            return None
        return f"rank {rank} failed: {message}"

    def _stale_rank(self, last_seen: dict[int, tuple[int, float]]) -> str | None:
        now = time.monotonic()
        for rank, (count, since) in last_seen.items():
            if self._store.check([f"done/{rank}"]):
                continue
            current = self._store.add(f"beat/{rank}", 0)
            if current != count:
                last_seen[rank] = (current, now)
            elif now - since > self.timeout:
                return f"rank {rank} sent no heartbeat for {self.timeout:g} s (it died or is frozen)"
        return None

    def _exited_child(self) -> str | None:
        """Ranks this process launched (Lightning's subprocess launcher) that exited with an error."""
        launcher = getattr(self._trainer.strategy, "launcher", None) if self._trainer else None
        node = int(os.environ.get("NODE_RANK", "0"))
        for local_rank, proc in enumerate(getattr(launcher, "procs", None) or [], start=1):
            code = proc.poll()
            if code not in (None, 0):
                rank = node * self._trainer.num_devices + local_rank
                how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                return f"rank {rank} {how}"
        return None

    def _abort(self, problem: str) -> None:
        """One line naming the failed rank, the ranks this process launched killed, exit status 1."""
        self._stop.set()
        sys.stderr.write(f"selftt: error (rank {self.rank}): {problem}; stopping this rank\n")
        sys.stderr.flush()
        launcher = getattr(self._trainer.strategy, "launcher", None) if self._trainer else None
        for proc in getattr(launcher, "procs", None) or []:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        os._exit(1)
