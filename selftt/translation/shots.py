"""Few-shot example pairs for the self-translation prompt.

A shots file is JSON keyed by target language; each entry is a list of parallel pairs keyed by
language code (BCP 47, matched ignoring case and deprecated forms: ``"ZH"`` finds ``"zh"``; a
tag with a region or script finds a less specific one in the same script: ``"de-DE"`` and
``"zh-Hans"`` find ``"de"`` and ``"zh"``, ``"zh-Hant"`` does not find Simplified ``"zh"``)::

    {"de": [{"en": "How old is she?", "de": "Wie alt ist sie?"}, ...], "zh": [...]}

Any pair of languages works: a German -> Swahili file is ``{"sw": [{"de": "...", "sw": "..."}]}``.
The packaged file (``selftt/assets/translation_shots.json``) covers English -> de/ru/th/zh with 8
pairs per language written for the project: a question, a math word problem, chain-of-thought
lines with arithmetic, an encyclopedic sentence, a short answer span and an NLI
premise/hypothesis, numbers kept as digits. Every other pair needs a user file
(``translation.shots_file``). Each side is a single line: the prompt separates pairs with a blank
line. Language facts (names, scripts) come from :mod:`selftt.languages`.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from selftt.errors import ConfigError, DataError
from selftt.languages import get_language, language_key
from selftt.tasks.readers import deepest_line

_PACKAGED = "assets/translation_shots.json"


def check_language(lang: object, key: str) -> str:
    """``lang`` in canonical form (``"ZH"`` -> ``"zh"``) if it is a valid language code
    (:func:`selftt.languages.get_language`); else raise ConfigError naming ``key``."""
    return get_language(lang, key).code


def packaged_shots_path() -> Any:
    """The packaged shots file (a Traversable: ``read_text`` works, a real path is not guaranteed)."""
    return resources.files("selftt").joinpath(_PACKAGED)


def _lookup(mapping: dict[str, Any], lang: str) -> Any:
    """The value of the key serving ``lang`` (:func:`selftt.languages.language_key`: the same tag in
    any case, ``"ZH"`` for ``"zh"``, else a less specific tag in the same script, ``"de"`` for
    ``"de-DE"``), or None."""
    key = language_key(mapping, lang)
    return None if key is None else mapping[key]


def _name_or_number(text: str) -> bool:
    """Whether ``text`` is a name or number that stays as it is in a translation ("Marie Curie",
    "1969"): every word starts with a capital letter or a digit, and no word ends a sentence."""
    words = text.split()
    return bool(words) and all(w[0].isupper() or w[0].isdigit() for w in words) and text[-1] not in ".!?"


def _example_file(src: str, tgt: str) -> str:
    return f'{{"{tgt}": [{{"{src}": "...", "{tgt}": "..."}}, ...]}}'


def load_shots(
    path: str | None, src_lang: str, tgt_lang: str, key: str = "translation.shots_file"
) -> list[tuple[str, str]]:
    """The (source, target) shot pairs for ``src_lang`` -> ``tgt_lang``, in file order.

    ``path`` None reads the packaged file, which covers English -> de/ru/th/zh only. Raises
    ConfigError (naming ``key``) for an invalid language code, equal languages, or a pair the
    packaged file lacks (then a shots file is required; the message shows its shape); DataError
    (naming the file) for a file that cannot be read, is not JSON of the shape above, has no
    pairs for ``tgt_lang``, or has a pair with a missing, empty or non-string side, a blank
    line inside a side or two sides of the same text (ignoring case and surrounding space; a
    name or number that stays as it is, every word capitalized or a number, is allowed).
    """
    src_lang, tgt_lang = check_language(src_lang, key), check_language(tgt_lang, key)
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
    except RecursionError:
        raise DataError(where, "shots file nests JSON too deeply", line=deepest_line(text)) from None

    if not isinstance(data, dict):
        raise DataError(
            where,
            f"shots file must be a JSON object {_example_file(src_lang, tgt_lang)}, got {type(data).__name__}",
        )
    pairs = _lookup(data, tgt_lang)
    if path is None and (
        not isinstance(pairs, list) or not all(isinstance(p, dict) and _lookup(p, src_lang) for p in pairs)
    ):
        packaged = ", ".join(f"en->{lang}" for lang in data)
        raise ConfigError(
            key,
            f"no packaged translation shots for {src_lang}->{tgt_lang} (packaged: {packaged}); set it to a "
            f"JSON file {_example_file(src_lang, tgt_lang)} of parallel one-line pairs (at least n_shots)",
        )
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
            value = _lookup(pair, lang)
            if value is None:
                raise DataError(where, f"shot {i} for {tgt_lang!r} has no {lang!r} side")
            if not isinstance(value, str):
                raise DataError(where, f"shot {i} for {tgt_lang!r}: {lang!r} must be a string")
            if not value.strip():
                raise DataError(where, f"shot {i} for {tgt_lang!r}: {lang!r} is empty")
            if "\n" in value.strip() or "\r" in value.strip():
                raise DataError(
                    where,
                    f"shot {i} for {tgt_lang!r}: {lang!r} has a line break; each side is one line "
                    "(text is translated line by line, and a blank line separates prompt pairs)",
                )
            sides.append(value.strip())
        if sides[0].casefold() == sides[1].casefold() and not _name_or_number(sides[0]):
            raise DataError(
                where,
                f"shot {i} for {tgt_lang!r}: the {src_lang!r} and {tgt_lang!r} sides are the same text "
                f"({sides[0][:40]!r}); a shot must show a translation",
            )
        out.append((sides[0], sides[1]))
    return out
