"""Resuming mid-epoch: the loop state a module's checkpoint carries when ``max_steps`` stopped fit."""

from __future__ import annotations

from typing import Any


def continue_unfinished_epoch(checkpoint: dict[str, Any], batches_in_epoch: float) -> bool:
    """Make a checkpoint that ``fit`` writes when it stops in the middle of an epoch resume there.

    A run stopped by ``max_steps`` (or ``should_stop``) mid-epoch still ends its epoch: Lightning
    counts it processed and calls ``on_train_epoch_end``, where ModelCheckpoint saves. Resumed
    from there, Lightning starts the next epoch, so the rest of the interrupted one is never
    trained on, and a run continued to more steps differs from one that ran them straight. Here
    the epoch counts as unprocessed again when fewer than ``batches_in_epoch`` batches (the
    trainer's ``num_training_batches``) were done, as in a checkpoint saved at a validation
    mid-epoch: Lightning then continues it and the resumable training loader skips the batches
    already done. True when the checkpoint was changed.
    """
    fit_loop = (checkpoint.get("loops") or {}).get("fit_loop") or {}
    epochs = fit_loop.get("epoch_progress") or {}
    batches = fit_loop.get("epoch_loop.batch_progress") or {}
    total, current = epochs.get("total") or {}, epochs.get("current") or {}
    done = (batches.get("current") or {}).get("ready", 0)
    ended_early = (
        batches.get("is_last_batch") is False
        and 0 < done < batches_in_epoch
        and total.get("ready") == total.get("started") == total.get("processed")
        and total.get("completed") == total.get("processed", 0) - 1
        and current.get("completed") == current.get("processed", 0) - 1
    )
    if ended_early:
        total["processed"] -= 1
        current["processed"] -= 1
    return ended_early
