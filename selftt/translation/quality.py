"""How good the model's own translations are: BLEU and chrF against human reference translations.

References come from the parallel evaluation sets (MGSM questions, XQuAD contexts and questions):
the model translates the English side and :func:`translation_quality` compares with the human
translation.

Scores are corpus-level, 0-100, computed by torchmetrics (no sacrebleu needed):

* ``bleu``: SacreBLEU BLEU-4, case-sensitive, no smoothing (equal to ``sacrebleu.corpus_bleu``
  with ``smooth_method="none"``, and to its default "exp" smoothing whenever every n-gram order
  has a match, as on any real corpus). Tokenizer by the language's script: ``zh`` for Chinese
  (each CJK character a token), ``char`` for the other scripts written without spaces between
  words (Thai, Lao, Khmer, Burmese, and Japanese, whose ``ja-mecab`` needs MeCab; ``13a`` would
  make a whole clause one token), ``13a`` otherwise. The ``flores200``/``spm`` SentencePiece
  tokenizers would treat all languages alike but need a model download, so they are not used.
* ``chrf``: plain chrF (character 6-grams, beta 2, ``n_word_order=0``). Not chrF++: its word
  n-grams need word boundaries, which Thai and Chinese text lacks, while character n-grams
  work on unsegmented text as they are. torchmetrics averages the per-order F-scores (as the
  original chrF++.py does), like sacrebleu's ``CHRF(eps_smoothing=True)``; sacrebleu's default
  averages precision and recall over the orders first (usually < 0.01 apart on a corpus).
  One more difference: for a reference shorter than 6 non-space characters (a short Chinese
  answer), sacrebleu ignores the hypothesis n-grams of the orders the reference lacks, while
  torchmetrics counts them against precision.

Both are computed in float64, so they agree with sacrebleu to ~1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torchmetrics.text import CHRFScore, SacreBLEUScore

from selftt.errors import DataError
from selftt.languages import get_language


def bleu_tokenizer(lang: str) -> str:
    """The SacreBLEU tokenizer :func:`translation_quality` uses for ``lang``, by its script
    (:attr:`selftt.languages.Language.bleu_tokenizer`): ``zh`` for Han, ``char`` for the other
    scripts written without spaces (Japanese, Thai, Lao, Khmer, Burmese), ``13a`` otherwise.
    Raises ConfigError for an invalid language code."""
    return get_language(lang).bleu_tokenizer


def translation_quality(hypotheses: list[str], references: list[str], lang: str) -> dict[str, float]:
    """Corpus BLEU and chrF (0-100) of ``hypotheses`` against one reference each, in language ``lang``.

    Returns ``{"bleu": ..., "chrf": ...}``. Hypotheses are compared as given (strip them first).
    Raises ValueError for empty or unequal-length lists, ConfigError for an invalid language code.
    """
    tokenize = bleu_tokenizer(lang)
    hypotheses, references = list(hypotheses), list(references)
    if not hypotheses:
        raise ValueError("no translations to score")
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} translations but {len(references)} references")
    targets = [[r] for r in references]
    bleu = SacreBLEUScore(n_gram=4, smooth=False, tokenize=tokenize, lowercase=False).set_dtype(torch.float64)
    chrf = CHRFScore(n_char_order=6, n_word_order=0, beta=2.0, lowercase=False, whitespace=False).set_dtype(
        torch.float64
    )
    return {
        "bleu": float(bleu(hypotheses, targets)) * 100.0,
        "chrf": float(chrf(hypotheses, targets)) * 100.0,
    }


# ---------------------------------------------------------------------------- reference pairs
def load_reference_pairs(source: str, reference: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(English source, human translation) pairs from two parallel evaluation files.

    * MGSM TSVs (``question<TAB>answer``, no header), parallel line by line: question pairs.
    * XQuAD/SQuAD v1.1 JSONs, parallel by question id: for each source paragraph its context
      pair (each distinct pair once), then its question pairs.

    The format follows the file suffix (``.tsv`` or ``.json``). ``limit`` keeps the first pairs.
    Raises DataError naming the file for an unknown or malformed format, or files that do not
    line up (different row counts, ids missing in one, a paragraph split differently).
    """
    src, ref = Path(source), Path(reference)
    kinds = {_kind(src), _kind(ref)}
    if len(kinds) != 1:
        raise DataError(ref, f"is not the same format as {src} (one .tsv, one .json)")
    pairs = _tsv_pairs(src, ref) if kinds == {"tsv"} else _squad_pairs(src, ref)
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        pairs = pairs[:limit]
    return pairs


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return "tsv"
    if suffix == ".json":
        return "json"
    raise DataError(
        path,
        f"unknown reference format {suffix or '(no suffix)'!r}: expected an MGSM .tsv or an XQuAD/SQuAD .json",
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(path, f"cannot read ({err})") from err


def _tsv_questions(path: Path) -> list[str]:
    rows = _read(path).split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    out = []
    for n, row in enumerate(rows, start=1):
        fields = row.rstrip("\r").split("\t")
        if len(fields) != 2 or not fields[0].strip():
            raise DataError(path, f"expected 'question<TAB>answer', got {len(fields)} field(s)", line=n)
        out.append(fields[0].strip())
    if not out:
        raise DataError(path, "has no rows")
    return out


def _tsv_pairs(src: Path, ref: Path) -> list[tuple[str, str]]:
    a, b = _tsv_questions(src), _tsv_questions(ref)
    if len(a) != len(b):
        raise DataError(ref, f"has {len(b)} rows but the source {src} has {len(a)}: not line-parallel")
    return list(zip(a, b, strict=True))


def _squad_paragraphs(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(context, [(qa id, question), ...]), ...] in file order."""
    try:
        data = json.loads(_read(path))
    except json.JSONDecodeError as err:
        raise DataError(path, f"is not valid JSON ({err.msg})", line=err.lineno) from err
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(path, 'expected SQuAD v1.1 JSON: {"data": [{"paragraphs": [...]}, ...]}')
    out = []
    seen: set[str] = set()
    try:
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                if not isinstance(context, str):
                    raise TypeError("context is not a string")
                qas = []
                for qa in paragraph["qas"]:
                    qid, question = str(qa["id"]), qa["question"]
                    if not isinstance(question, str):
                        raise TypeError(f"question {qid} is not a string")
                    if qid in seen:
                        raise DataError(path, f"question id {qid!r} occurs more than once")
                    seen.add(qid)
                    qas.append((qid, question.strip()))
                out.append((context.strip(), qas))
    except (KeyError, TypeError) as err:
        raise DataError(
            path, f"not SQuAD v1.1 JSON (data/paragraphs/context/qas/id/question): {err!r}"
        ) from err
    if not seen:
        raise DataError(path, "has no questions")
    return out


def _squad_pairs(src: Path, ref: Path) -> list[tuple[str, str]]:
    src_paragraphs, ref_paragraphs = _squad_paragraphs(src), _squad_paragraphs(ref)
    ref_question: dict[str, str] = {}
    ref_paragraph_of: dict[str, int] = {}
    for p, (_, qas) in enumerate(ref_paragraphs):
        for qid, question in qas:
            ref_question[qid] = question
            ref_paragraph_of[qid] = p
    src_ids = {qid for _, qas in src_paragraphs for qid, _ in qas}
    _check_ids(src_ids, set(ref_question), src, ref)

    pairs: list[tuple[str, str]] = []
    seen_contexts: set[tuple[str, str]] = set()
    for context, qas in src_paragraphs:
        if not qas:
            continue  # a paragraph without questions cannot be matched by id
        where = {ref_paragraph_of[qid] for qid, _ in qas}
        if len(where) != 1:
            raise DataError(
                ref, f"the questions of one source paragraph ({qas[0][0]!r}, ...) lie in different paragraphs"
            )
        context_pair = (context, ref_paragraphs[where.pop()][0])
        if context_pair not in seen_contexts:
            seen_contexts.add(context_pair)
            pairs.append(context_pair)
        pairs += [(question, ref_question[qid]) for qid, question in qas]
    return pairs


def _check_ids(src_ids: set[str], ref_ids: set[str], src: Path, ref: Path) -> None:
    def sample(ids: set[Any]) -> str:
        return ", ".join(repr(i) for i in sorted(ids)[:3]) + (", ..." if len(ids) > 3 else "")

    if src_ids - ref_ids:
        missing = src_ids - ref_ids
        raise DataError(ref, f"lacks {len(missing)} question id(s) of the source {src}: {sample(missing)}")
    if ref_ids - src_ids:
        extra = ref_ids - src_ids
        raise DataError(src, f"lacks {len(extra)} question id(s) of the reference {ref}: {sample(extra)}")
