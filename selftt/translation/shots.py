"""Few-shot example pairs for the self-translation prompt, and the language codes selftt supports.

A shots file is JSON keyed by target language; each entry is a list of parallel pairs keyed by
language code::

    {"de": [{"en": "How old is she?", "de": "Wie alt ist sie?"}, ...], "zh": [...]}

The packaged file (``selftt/assets/translation_shots.json``) holds 8 pairs per language written
for the project: a question, a math word problem, chain-of-thought lines with arithmetic, an
encyclopedic sentence, a short answer span and an NLI premise/hypothesis, numbers kept as digits.
Each side is a single line: the prompt separates pairs with a blank line.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from selftt.errors import ConfigError, DataError

LANGUAGE_NAMES = {"en": "English", "de": "German", "ru": "Russian", "th": "Thai", "zh": "Chinese"}
"""Language code -> the name the prompt uses."""

SUPPORTED_LANGUAGES = ("de", "ru", "th", "zh")
"""Target languages; ``en`` is the source language."""

SOURCE_LANGUAGE = "en"

_PACKAGED = "assets/translation_shots.json"
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def check_language(lang: str, key: str) -> None:
    """Raise ConfigError (naming ``key``) unless ``lang`` is a supported target language code."""
    if not isinstance(lang, str) or lang not in SUPPORTED_LANGUAGES:
        raise ConfigError(
            key,
            f"unsupported language code {lang!r}; supported target languages: {', '.join(SUPPORTED_LANGUAGES)}",
        )


def packaged_shots_path() -> Any:
    """The packaged shots file (a Traversable: ``read_text`` works, a real path is not guaranteed)."""
    return resources.files("selftt").joinpath(_PACKAGED)


def load_shots(
    path: str | None, src_lang: str, tgt_lang: str, key: str = "translation.shots_file"
) -> list[tuple[str, str]]:
    """The (source, target) shot pairs for ``src_lang`` -> ``tgt_lang``, in file order.

    ``path`` None reads the packaged file. Raises ConfigError (naming ``key``) for an unsupported
    language pair, and DataError (naming the file) for a file that cannot be read, is not JSON of
    the shape above, has no pairs for ``tgt_lang``, or has a pair with a missing, empty or
    non-string side or a blank line inside a side.
    """
    if src_lang not in LANGUAGE_NAMES:
        raise ConfigError(
            key, f"unsupported source language code {src_lang!r}; supported: {', '.join(LANGUAGE_NAMES)}"
        )
    check_language(tgt_lang, key)
    if src_lang == tgt_lang:
        raise ConfigError(key, f"source and target language are both {src_lang!r}")

    if path is None:
        where: object = f"<packaged selftt/{_PACKAGED}>"
        try:
            text = packaged_shots_path().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DataError(where, f"cannot read the packaged shots file ({err})") from err
    else:
        where = Path(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DataError(where, f"cannot read shots file ({err})") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(where, f"shots file is not valid JSON ({err.msg})", line=err.lineno) from err

    if not isinstance(data, dict):
        raise DataError(
            where,
            'shots file must be a JSON object {"<lang>": [{"en": ..., "<lang>": ...}, ...]}, '
            f"got {type(data).__name__}",
        )
    pairs = data.get(tgt_lang)
    if pairs is not None and not isinstance(pairs, list):
        raise DataError(where, f"shots for {tgt_lang!r} must be a list of pairs, got {type(pairs).__name__}")
    if not pairs:
        raise DataError(where, f"shots file has no pairs for {tgt_lang!r}")

    out: list[tuple[str, str]] = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict):
            raise DataError(where, f"shot {i} for {tgt_lang!r} must be an object, got {type(pair).__name__}")
        sides = []
        for lang in (src_lang, tgt_lang):
            value = pair.get(lang)
            if value is None:
                raise DataError(where, f"shot {i} for {tgt_lang!r} has no {lang!r} side")
            if not isinstance(value, str):
                raise DataError(where, f"shot {i} for {tgt_lang!r}: {lang!r} must be a string")
            if not value.strip():
                raise DataError(where, f"shot {i} for {tgt_lang!r}: {lang!r} is empty")
            if _BLANK_LINE.search(value):
                raise DataError(
                    where,
                    f"shot {i} for {tgt_lang!r}: {lang!r} contains a blank line (it separates prompt pairs)",
                )
            sides.append(value.strip())
        out.append((sides[0], sides[1]))
    return out
