"""After Ctrl-C or SIGTERM, one line saying what was kept and how to go on (Lightning only says it
stops)."""

from __future__ import annotations

import logging
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)


class InterruptNote(Callback):
    """On a KeyboardInterrupt (Ctrl-C) or SIGTERM (a scheduler's pre-emption, ``timeout``; Lightning
    stops at the next step boundary), rank zero logs the step reached and how to resume:

    * training: the last checkpoint and ``--ckpt_path`` to add to the same command (the resumed
      run writes to the next ``version_N`` folder), or that no checkpoint was written yet;
    * ``translate`` (which trains nothing): that the translations made so far are in the cache
      and the same command carries on from there.
    """

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt | SIGTERMException) or not trainer.is_global_zero:
            return
        how = "Ctrl-C" if isinstance(exception, KeyboardInterrupt) else "SIGTERM"
        if trainer.fit_loop.epoch_loop.max_steps == 0:  # SelfTTTrainer.translate
            log.warning(
                "translation stopped (%s): the translations made so far are in the cache; "
                "run the same command again to carry on from there",
                how,
            )
            return
        callback = trainer.checkpoint_callback
        last = getattr(callback, "last_model_path", "") if callback is not None else ""
        if last and Path(last).is_file():
            log.warning(
                "stopped (%s) at global step %d; the last checkpoint is %s: resume with the same "
                "command and --ckpt_path %s (the resumed run writes to the next version_N folder)",
                how,
                trainer.global_step,
                last,
                last,
            )
        else:
            log.warning(
                "stopped (%s) at global step %d before any checkpoint was written: nothing to resume from",
                how,
                trainer.global_step,
            )
