"""Markdown text (translation samples, evaluation samples) to whichever loggers the run has."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


def log_markdown(loggers: Iterable[Any], tag: str, text: str, step: int) -> int:
    """Log ``text`` (Markdown) under ``tag`` to every logger that can hold text: TensorBoard
    (``add_text``), MLflow (an artifact ``<tag>/step_<step>.md`` of the run) and Weights & Biases
    (a one-column table). Other loggers (CSV, ...) hold metrics only: they are skipped, and the
    same samples stay in the run's files (``dataset.jsonl``, predictions). Returns how many
    loggers took the text.
    """
    from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    took = 0
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_text(tag, text, global_step=step)
        elif isinstance(logger, MLFlowLogger):
            name = re.sub(r"[^\w/.-]+", "_", tag)
            logger.experiment.log_text(logger.run_id, text, f"{name}/step_{step}.md")
        elif isinstance(logger, WandbLogger):
            logger.log_text(key=tag, columns=["markdown"], data=[[text]], step=step)
        else:
            log.debug("%s keeps no text: %s not logged there", type(logger).__name__, tag)
            continue
        took += 1
    return took
