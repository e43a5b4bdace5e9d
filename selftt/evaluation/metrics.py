"""Scores for the three tasks: numeric accuracy (math), exact match and F1 (QA), label accuracy (NLI).

QA follows the official MLQA evaluation script, which extends SQuAD v1.1's to other languages:
the text is lowercased, punctuation (every Unicode ``P*`` character plus ASCII
``string.punctuation``) and the language's articles are removed, whitespace is collapsed, and
F1 is computed over ``answer_tokens``. English is scored exactly as by the SQuAD v1.1 script,
which removes ASCII punctuation only (a curly quote stays), so that English XQuAD numbers are
the usual ones. torchmetrics' SQuAD metric normalizes for English only (ASCII punctuation,
English articles, whitespace tokens, so a whole Chinese answer is one token), which is why it
is not used here; the tests check that both agree on English.

Every value that ``score`` returns is a percentage, 0-100 (like the SQuAD script's output).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix

from selftt.tasks.math import normalize_number
from selftt.tasks.nli import LABELS, normalize_label

PRIMARY_METRIC = {"math": "accuracy", "qa": "f1", "nli": "accuracy"}
"""The metric each task is compared by (a key of ``score``'s result)."""

_ASCII_PUNCTUATION = frozenset(string.punctuation)

# Articles removed per language, as in the MLQA script (after lowercasing and punctuation removal).
_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "de": re.compile(r"\b(der|die|das|des|dem|den|ein|eine|einer|eines|einem|einen)\b"),
}

# CJK ideographs: unified (and extension A), compatibility, and the supplementary-plane extensions.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def _is_punctuation(ch: str) -> bool:
    # ASCII string.punctuation includes symbols (S*: $ + < = > ^ ` | ~) that SQuAD also removes.
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str, lang: str) -> str:
    """Lowercase, drop punctuation and articles (en: a/an/the; de: der/die/das/des/dem/den and
    ein/eine/einer/eines/einem/einen; none elsewhere) and collapse whitespace.

    Punctuation is every Unicode ``P*`` character (Chinese 「」。， Russian «» ...) and ASCII
    ``string.punctuation``; for English only the latter, as in the SQuAD v1.1 script.
    ``normalize_answer("Der Rhein!", "de") == "rhein"``; ``normalize_answer("「北京」。", "zh") == "北京"``.
    """
    text = text.lower()
    if lang == "en":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCTUATION)
    else:
        text = "".join(ch for ch in text if not _is_punctuation(ch))
    if lang in _ARTICLES:
        text = _ARTICLES[lang].sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str, lang: str) -> list[str]:
    """The tokens F1 counts, of (normalized) ``text``.

    - en, de, ru and any other language: whitespace tokens.
    - zh: MLQA's "mixed segmentation": every CJK character (and punctuation mark) is a token,
      the text between them is split on whitespace, so runs of Latin letters or digits stay
      whole: ``"北京2008年Olympics"`` -> ``北 京 2008 年 olympics`` (lowercased by normalization).
    - th: characters (whitespace dropped). Thai is written without spaces between words and
      MLQA has no Thai rule; characters give partial credit without a word segmenter (which
      would make scores depend on its version). Combining vowels and tone marks count as
      characters of their own.
    """
    if lang == "zh":
        tokens: list[str] = []
        run: list[str] = []
        for ch in text:
            if _CJK.match(ch) or _is_punctuation(ch):
                tokens.extend("".join(run).split())
                run = []
                tokens.append(ch)
            else:
                run.append(ch)
        tokens.extend("".join(run).split())
        return tokens
    if lang == "th":
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def _golds(golds: str | Sequence[str]) -> list[str]:
    golds = [golds] if isinstance(golds, str) else list(golds)
    if not golds:
        raise ValueError("no gold answers to compare with")
    return golds


def qa_exact_match(prediction: str, golds: Sequence[str], lang: str) -> float:
    """1.0 if the normalized prediction equals some normalized gold answer, else 0.0.

    Equality is of ``answer_tokens``, so for zh and th whitespace between characters does not
    matter ("北京 大学" == "北京大学"); for whitespace languages it is string equality.
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


def _decimal(value: Any) -> Decimal | None:
    number = normalize_number(value) if value is not None else None
    return Decimal(number) if number is not None else None


def _score_math(predictions: Sequence[Any], golds: Sequence[Any]) -> dict[str, float]:
    correct = unparsed = 0
    for pred, gold in zip(predictions, golds, strict=True):
        gold_value = _decimal(gold)
        if gold_value is None:
            raise ValueError(f"gold answer {gold!r} is not a number")
        value = _decimal(pred)
        unparsed += value is None
        correct += value is not None and value == gold_value
    n = len(golds)
    return {"accuracy": 100.0 * correct / n, "unparsed": 100.0 * unparsed / n}


def _score_qa(predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
    em = f1 = 0.0
    for pred, gold in zip(predictions, golds, strict=True):
        em += qa_exact_match(pred or "", gold, lang)
        f1 += qa_f1(pred or "", gold, lang)
    n = len(golds)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n}


def _score_nli(predictions: Sequence[Any], golds: Sequence[Any]) -> dict[str, float]:
    # Classes 0-2 are LABELS; class 3 is "unparsed", which no gold label has, so it is never correct.
    unparsed_class = len(LABELS)
    gold_ids, pred_ids = [], []
    for pred, gold in zip(predictions, golds, strict=True):
        gold_label = normalize_label(gold)
        if gold_label is None:
            raise ValueError(f"gold label {gold!r} is not one of {', '.join(LABELS)}")
        gold_ids.append(LABELS.index(gold_label))
        pred_label = normalize_label(pred) if isinstance(pred, str) else None
        pred_ids.append(LABELS.index(pred_label) if pred_label is not None else unparsed_class)
    # Integer counts (rather than torchmetrics' float32 accuracy) keep the percentages exact.
    matrix = multiclass_confusion_matrix(
        torch.tensor(pred_ids), torch.tensor(gold_ids), num_classes=len(LABELS) + 1
    )
    n = len(golds)
    correct = int(matrix.diagonal().sum())
    unparsed = int(matrix[:, unparsed_class].sum())
    return {"accuracy": 100.0 * correct / n, "unparsed": 100.0 * unparsed / n}


def score(task_name: str, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
    """Corpus-level scores of parsed predictions (``Task.parse_answer`` outputs), all 0-100.

    - ``math``: predictions are normalized number strings or None, golds the examples' ``final``
      strings. ``accuracy``: % numerically equal (``"18"`` == ``"18.0"``); ``unparsed``: % None
      (counted wrong).
    - ``qa``: predictions are strings, golds lists of gold answer texts (a single string is
      taken as a one-answer list). ``exact_match`` and ``f1``: % as in the SQuAD/MLQA scripts,
      with the multilingual normalization of ``normalize_answer`` and ``answer_tokens``.
    - ``nli``: predictions are label names or None, golds label names (or 0/1/2).
      ``accuracy``: % correct; ``unparsed``: % None or not a label (counted wrong). Computed
      from a torchmetrics confusion matrix over the three labels plus an "unparsed" class.

    Raises ValueError for an unknown task, no examples, lengths that differ or a bad gold.
    """
    if task_name not in PRIMARY_METRIC:
        raise ValueError(f"unknown task '{task_name}'; expected one of {', '.join(PRIMARY_METRIC)}")
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions but {len(golds)} gold answers")
    if not golds:
        raise ValueError("no examples to score")
    if task_name == "math":
        return _score_math(predictions, golds)
    if task_name == "qa":
        return _score_qa(predictions, golds, lang)
    return _score_nli(predictions, golds)
