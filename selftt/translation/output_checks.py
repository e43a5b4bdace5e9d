"""Checks that a self-translation is whole and free of prompt text (filter rules, see
:mod:`selftt.translation.filters`).

``truncated``
    Some line of the field ended because its token budget ran out (finish reason ``length``):
    the translation may stop mid-sentence ("... und dann ging er in die").
``empty_line``
    A multi-line field (a chain of thought) came back with an empty line where its source line
    was not empty: a reasoning step was lost.
``lost_question``
    The source asks a question (it holds a question mark) and the translation holds none in any
    script (``?``, ``？``, ``؟``; Greek's ``;`` is not counted): the question sentence was dropped,
    so the example no longer asks what its answer answers. Not judged for languages that often
    ask without a question mark, by their script (Thai, Lao, Khmer, Burmese:
    :attr:`selftt.languages.Language.question_mark_optional`).
``scaffolding``
    The translation carries prompt text: it starts with a language label of the prompt
    ("German: ...", "Deutsch: ...") or runs on into the next shot ("... English: The dog
    barks."). Labels are the source and target languages' names in English, in the source and
    in the target language (CLDR data through ``langcodes``), followed by a colon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from selftt.errors import ConfigError
from selftt.languages import get_language

_QUESTION_MARKS = ("?", "？", "؟", "⁇", "¿")


@lru_cache(maxsize=64)
def language_labels(src_lang: str, tgt_lang: str, prompt_names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Names by which a prompt or a model may label the two languages: each language's name in
    English, in the source language and in the target language (``langcodes``), plus the names
    the prompt itself uses. Case is kept; matching ignores it."""
    import langcodes

    names = set(prompt_names)
    for code in (src_lang, tgt_lang):
        language = langcodes.Language.get(code)
        for display in ("en", src_lang, tgt_lang):
            try:
                names.add(language.display_name(display))
            except (LookupError, ValueError):  # no data for that display language
                continue
    return tuple(sorted(n for n in names if n))


def _label_pattern(labels: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?:^|(?<=\s))(?:{alternatives})\s*[:：]", re.IGNORECASE)


def has_scaffolding(source: str, translation: str, labels: Sequence[str]) -> bool:
    """Whether ``translation`` holds a ``<language label>:`` the source does not hold."""
    if not labels:
        return False
    pattern = _label_pattern(labels)
    return bool(pattern.search(translation)) and not pattern.search(source)


def lost_question(source: str, translation: str, tgt_lang: str) -> bool:
    """The source holds a question mark and the translation none (see the module docstring);
    never for a target language whose script often asks without one (Thai, Lao, Khmer, Burmese).
    An invalid language code is judged like a spaced one."""
    try:
        if get_language(tgt_lang).question_mark_optional:
            return False
    except ConfigError:
        pass
    return any(m in source for m in _QUESTION_MARKS) and not any(m in translation for m in _QUESTION_MARKS)


def lost_line(source: str, translation: str) -> bool:
    """A non-empty source line whose translated line is empty or missing (multi-line fields)."""
    src_lines = source.split("\n")
    if len(src_lines) < 2 or not translation.strip():
        return False  # single lines and wholly empty outputs: the 'empty' rule's case
    out_lines = translation.split("\n")
    return any(line.strip() and (i >= len(out_lines) or not out_lines[i].strip()) for i, line in enumerate(src_lines))


def truncated(finish_reasons: Sequence[str] | None) -> bool:
    """Some line's generation ended at its token budget (finish reason ``length``)."""
    return bool(finish_reasons) and "length" in finish_reasons
