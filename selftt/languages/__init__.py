"""Facts about any language by its BCP 47 / ISO 639 code, from standard locale data: the one
place selftt asks about a language (``registry``: name, script, separators, spacing; ``numbers``:
numbers written in the language's way)."""

from selftt.languages.registry import (
    HAN_SCRIPTS,
    QUESTION_PARTICLE_SCRIPTS,
    SOUTHEAST_ASIAN_SCRIPTS,
    UNSPACED_SCRIPTS,
    Language,
    canonical_code,
    get_language,
    language_key,
    script_letters,
)

__all__ = [
    "HAN_SCRIPTS",
    "QUESTION_PARTICLE_SCRIPTS",
    "SOUTHEAST_ASIAN_SCRIPTS",
    "UNSPACED_SCRIPTS",
    "Language",
    "canonical_code",
    "get_language",
    "language_key",
    "script_letters",
]
