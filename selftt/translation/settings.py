"""The ``translation.*`` settings of self-translation (prompt, decoding, segmentation, answer
markers, retries, filters, cache), as one typed hand-off from the callback to the translator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from selftt.modules.generation import GenerationSettings
from selftt.tasks import Task
from selftt.translation.filters import FilterSettings
from selftt.translation.pieces import PieceSettings
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.segments import Segment


@dataclass
class TranslationSettings:
    """How the translation stage translates, filters and caches (the ``translation.*`` config keys)."""

    prompt: TranslationPrompt = field(default_factory=TranslationPrompt)
    """The few-shot prompt: number of shots, template, separator, stop strings."""
    shots_file: str | None = None
    """JSON of parallel example pairs per language; None: the pairs shipped with selftt."""
    generation: GenerationSettings = field(default_factory=lambda: GenerationSettings(max_new_tokens=512))
    """Decoding and batching of translation."""
    max_new_tokens_ratio: float = 3.0
    """New-token budget per line = ratio x source tokens + ``max_new_tokens_extra``."""
    max_new_tokens_extra: int = 16
    """See ``max_new_tokens_ratio``."""
    filters: FilterSettings = field(default_factory=FilterSettings)
    """Which quality filters run, and their thresholds."""
    cache_dir: str | Path = "cache/translations"
    """Folder of the translation cache."""
    chunk_size: int = 64
    """Examples translated between cache writes."""
    fields: Sequence[str] | None = None
    """Translate only these fields (None: all the task's translatable fields)."""
    segment: Segment = "sentence"
    """Pieces translated one prompt each: 'sentence', 'line' or 'none' (whole field); see
    :mod:`selftt.translation.segments`."""
    answer_markers: tuple[str, str] | None = ("[", "]")
    """Extractive QA: the answer span is put between these two markers in the source context, and
    the translated answer is read back from between them (None: no marking; the separately
    translated answer is searched for in the translated context). See
    :mod:`selftt.translation.projection`."""
    retries: int = 3
    """Pieces whose translation fails a piece check (echoed source, loop, cut off, wrong language,
    lost question mark, length) are translated again this often with the next shots of the shots
    file (see :class:`selftt.translation.pieces.PieceCheck`); 0: never."""
    drop_failed_pieces: float = 0.25
    """Extractive QA: up to this share of a context's sentences whose translation still fails the
    piece check after the retries are left out of the translated context (never the sentence
    holding the answer); 0: none, the context is judged whole. See
    :class:`selftt.translation.pieces.PieceSettings`."""

    def pieces(self, task: Task) -> PieceSettings:
        """The settings that decide the pieces and prompts; markers only for a task with an answer span."""
        return PieceSettings(
            prompt=self.prompt,
            generation=self.generation,
            segment=self.segment,
            max_new_tokens_ratio=self.max_new_tokens_ratio,
            max_new_tokens_extra=self.max_new_tokens_extra,
            answer_markers=tuple(self.answer_markers) if self.answer_markers and task.answer_span else None,
            retries=self.retries,
            drop_failed_pieces=self.drop_failed_pieces,
        )
