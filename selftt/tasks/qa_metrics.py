"""Multilingual answer metrics: exact match and F1 of extractive QA answers (each task's
``score`` in :mod:`selftt.tasks` uses what it needs of these).

QA follows the official MLQA evaluation script, which extends SQuAD v1.1's to other languages:
the text is lowercased, punctuation (every Unicode ``P*`` character plus ASCII
``string.punctuation``) and the language's articles are removed, whitespace is collapsed, and
F1 is computed over ``answer_tokens``. English is scored exactly as by the SQuAD v1.1 script,
which removes ASCII punctuation only (a curly quote stays), so that English XQuAD numbers are
the usual ones. torchmetrics' SQuAD metric normalizes for English only (ASCII punctuation,
English articles, whitespace tokens, so a whole Chinese answer is one token), which is why it
is not used here; the tests check that both agree on English.

``qa_exact_match`` and ``qa_f1`` return 0-1 per prediction; a task's ``score`` turns them into
percentages, 0-100 (like the SQuAD script's output).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from selftt.languages import HAN_SCRIPTS, get_language

_ASCII_PUNCTUATION = frozenset(string.punctuation)

# Articles removed per language subtag, as in the MLQA script (after lowercasing and punctuation
# removal); MLQA has no article rule for hi and zh, and none is defined for other languages.
# (MLQA's Arabic rule, which deletes "ال" wherever it occurs, inside words too, is not copied.)
_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "de": re.compile(r"\b(der|die|das|des|dem|den|ein|eine|einer|eines|einem|einen)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
}


def _is_punctuation(ch: str) -> bool:
    # ASCII string.punctuation includes symbols (S*: $ + < = > ^ ` | ~) that SQuAD also removes.
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str, lang: str) -> str:
    """Lowercase, drop punctuation and articles (MLQA's rules, by language subtag: en a/an/the;
    de der/die/das/des/dem/den and ein/eine/einer/eines/einem/einen; es un/una/unos/unas/el/la/
    los/las; vi của/là/cái/chiếc/những; none elsewhere) and collapse whitespace.

    Punctuation is every Unicode ``P*`` character (Chinese 「」。， Russian «» ...) and ASCII
    ``string.punctuation``; for English only the latter, as in the SQuAD v1.1 script.
    ``normalize_answer("Der Rhein!", "de") == "rhein"``; ``normalize_answer("「北京」。", "zh") == "北京"``.
    """
    base = get_language(lang).base
    text = text.lower()
    if base == "en":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCTUATION)
    else:
        text = "".join(ch for ch in text if not _is_punctuation(ch))
    if base in _ARTICLES:
        text = _ARTICLES[base].sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str, lang: str) -> list[str]:
    """The tokens F1 counts, of (normalized) ``text``, by the script of ``lang``
    (:func:`selftt.languages.get_language`; ConfigError for an invalid code).

    - Scripts that separate words with spaces (en, de, ru, hi, ar, ko ...): whitespace tokens.
    - Chinese and Japanese (Han, kana): MLQA's "mixed segmentation" for zh: every character of
      the script (and punctuation mark) is a token, the text between them is split on
      whitespace, so runs of Latin letters or digits stay whole: ``"北京2008年Olympics"`` ->
      ``北 京 2008 年 olympics`` (lowercased by normalization); ``"東京タワー"`` -> 5 tokens.
    - Thai, Lao, Khmer, Burmese, Tibetan: characters (whitespace dropped). They are written
      without spaces between words and MLQA has no rule for them; characters give partial
      credit without a word segmenter (which would make scores depend on its version).
      Combining vowels and tone marks count as characters of their own.
    """
    language = get_language(lang)
    if language.script in HAN_SCRIPTS and language.letters is not None:
        tokens: list[str] = []
        run: list[str] = []
        for ch in text:
            if language.letters.match(ch) or _is_punctuation(ch):
                tokens.extend("".join(run).split())
                run = []
                tokens.append(ch)
            else:
                run.append(ch)
        tokens.extend("".join(run).split())
        return tokens
    if not language.spaced:
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def _golds(golds: str | Sequence[str]) -> list[str]:
    golds = [golds] if isinstance(golds, str) else list(golds)
    if not golds:
        raise ValueError("no gold answers to compare with")
    return golds


def qa_exact_match(prediction: str, golds: Sequence[str], lang: str) -> float:
    """1.0 if the normalized prediction equals some normalized gold answer, else 0.0.

    Equality is of ``answer_tokens``, so for scripts without spaces (zh, ja, th ...) whitespace
    between characters does not matter ("北京 大学" == "北京大学"); for whitespace languages it is string equality.
    """
    pred = answer_tokens(normalize_answer(prediction or "", lang), lang)
    return max(float(pred == answer_tokens(normalize_answer(g, lang), lang)) for g in _golds(golds))


def _f1(pred: list[str], gold: list[str]) -> float:
    # As in SQuAD v1.1 and MLQA: no common token (including both sides empty) scores 0. (SQuAD
    # v2.0, and torchmetrics, score 1 when both are empty; gold answers never normalize to empty.)
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def qa_f1(prediction: str, golds: Sequence[str], lang: str) -> float:
    """The best token-overlap F1 (0-1) of the prediction against any gold answer."""
    pred = answer_tokens(normalize_answer(prediction or "", lang), lang)
    return max(_f1(pred, answer_tokens(normalize_answer(g, lang), lang)) for g in _golds(golds))
