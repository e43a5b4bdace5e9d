"""What the self-translation stage exchanges with the data module: typed requests in, data sets out.

The data flows one way: the data module says which source examples need translating into
which language (``TranslationRequest``); the translation stage answers each with a
``TranslatedSet``, which the data module's mixture turns into its 'tgt' and 'cs' components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from selftt.tasks import Example, Task


@dataclass(frozen=True)
class TranslationRequest:
    """Source examples that the training mixture needs in ``lang``."""

    lang: str
    """Target language."""
    src_lang: str
    """Language of ``examples``."""
    examples: list[Example]
    """The source examples, in order."""
    component: int
    """Index of the first component asking for ``lang`` in ``data.components``."""

    @property
    def key(self) -> str:
        """That component's config key (``data.components[i]``), for errors."""
        return f"data.components[{self.component}]"


@dataclass(frozen=True)
class TranslatedSet:
    """The kept self-translations of one target language: what the mixture is built from."""

    lang: str
    """Target language."""
    src_lang: str
    """Source language."""
    pairs: list[tuple[Example, Example]]
    """(source example, translated example) for every kept translation, in source order."""


@runtime_checkable
class TranslationConsumer(Protocol):
    """A data module whose training mixture needs self-translations (``SelfTTDataModule``)."""

    task: Task

    def translation_requests(self) -> list[TranslationRequest]:
        """What is still to translate, one request per target language (after ``setup('fit')``)."""
        ...

    def add_translated(self, translated: TranslatedSet) -> None:
        """Build the components of ``translated.lang`` from its kept translations."""
        ...
