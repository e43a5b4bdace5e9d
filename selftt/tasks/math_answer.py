"""The final numeric answer of a math generation, in any supported language and number format.

The rules (``parse_number_answer``):

1. The text is folded (``fold_text``: any decimal digit to ASCII, full-width punctuation to
   ASCII; superscripts and fractions stay, so ``m²`` or ``½`` never become digits) and cut
   where the model starts a new question of its own (a line opening with "Question:",
   "Frage:", "Вопрос:", "คำถาม:", "问题:" ...).
2. The LAST final-answer phrase decides ("The answer is", "Die Antwort lautet", "Ответ:",
   "คำตอบคือ", "答案是", "####", ``\\boxed{``), of any supported language, since code-switched
   models answer in English (or another language) in any set. Its number is the first one after
   it, within its sentence (a question such as "答案是多少？" states none); if that sentence
   computes (``3 + 4 = 7``) the result after the last ``=`` is taken. A phrase negated before
   its number ("The answer is not 3", "Antwort ist nicht", "не", "ไม่", "不") states nothing.
   A phrase stating no number gives way to the one before it.
3. Without one, a weaker phrase ("result is", "Ergebnis ist", "итого", "ผลลัพธ์คือ", "结果是",
   "in total") counts only if no number follows the one it states (so an intermediate result
   never wins); else the last number of the text is the answer.

A number's format comes from its own shape (``read_number``); where that is ambiguous
(``1,500``, ``1.500``) from the language of the phrase that states it, or, for the last-number
fallback, of the line it is in (by script, and for Latin script English or German words), with
the set's language as the default.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from selftt.languages import language_key
from selftt.languages.numbers import fold_text, read_number

# Final-answer phrases per language (case-insensitive, on folded text).
_FINAL = {
    "en": r"(?<!by-step )(?<!by step )\b(?:final\s+)?answer\s*(?:is|was|would\s+be|will\s+be|should\s+be|=|:)\s*:?"
    r"|\bfinal\s+answer\b\s*:?|####|\\boxed\{",
    "de": r"(?<!schritt-)\b(?:endgültige\s+)?Antwort\s*(?:lautet|ist|wäre|beträgt|=|:)\s*:?"
    r"|\bEndergebnis\s*(?:lautet|ist|beträgt|=|:)\s*:?",
    "ru": r"\bответ\s*(?::|—|–|-(?![0-9])|=|равен|равна|будет|составляет|это)\s*:?|\bответ\s+(?=-?[0-9])",
    "th": r"คำตอบ(?:สุดท้าย)?\s*(?:คือ|:|=)\s*:?",
    "zh": r"(?:最终|最后)?答案\s*(?:是|为|應為|应为|:|=)\s*:?|最终答案|(?<![解回作])答\s*:",
}
# Weaker phrases, which may introduce an intermediate result.
_WEAK = {
    "en": r"\b(?:final\s+)?result\s*(?:is|=|:)|\bin\s+total\b|\btotal\s*(?:is|=|:)",
    "de": r"\bErgebnis\s*(?:lautet|ist|beträgt|=|:)|\binsgesamt\b",
    "ru": r"\bрезультат\s*(?::|—|=|равен|будет|составляет)|\bитого\b|\bвсего\b",
    "th": r"ผลลัพธ์\s*(?:คือ|:|=)|ทั้งหมด",
    "zh": r"结果\s*(?:是|为|:|=)|一共|总共",
}


def _compile(pattern: str) -> re.Pattern[str]:
    # Thai SARA AM may come decomposed (NFKC turns "ำ" into "ํา"); accept both spellings.
    return re.compile(pattern.replace("ำ", "(?:ำ|\u0e4d\u0e32)"), re.IGNORECASE)


_FINAL_RE = {lang: _compile(p) for lang, p in _FINAL.items()}
_WEAK_RE = {lang: _compile(p) for lang, p in _WEAK.items()}
_NEGATION = re.compile(r"\b(?:not|never|no|isn't|nicht|kein\w*|не|нет)\b|ไม่|不|没|沒|非", re.IGNORECASE)
_NEXT_QUESTION = re.compile(
    r"^[ \t>*#]*(?:question|q|frage|aufgabe|вопрос|задача|คำถาม|โจทย์|问题|题目|問題)\s*[0-9]*\s*:",
    re.I | re.M,
)
# The end of the sentence a phrase's number must be in: a question mark ends it too.
_SENTENCE_END = re.compile(r"[?!;。！；]|\.(?=\s|$)")

_SEPS = r"[.,'\u00a0\u202f\u2009]"
_NUMBER = r"(?P<sign>(?<![0-9A-Za-z)\]])-)?(?:[$€£¥]\s?)?(?P<num>[0-9]+(?:{sep}[0-9]+)*)(?![0-9])"
_NUMBER_RE = re.compile(_NUMBER.format(sep=_SEPS))
# Russian (and French) group thousands with a plain space: "1 500".
_SPACED_NUMBER_RE = re.compile(_NUMBER.format(sep=rf"(?:{_SEPS}| (?=[0-9]{{3}}(?![0-9])))"))
_OPERATOR = re.compile(r"\s*([-+*/×÷·x^=])\s*")

# Common words telling German from English (for the format of a number no phrase introduces).
_DE_WORDS = frozenset(
    re.findall(
        r"\S+",
        """der die das den dem des und ist sind hat haben sie er es ein eine
    einen nicht mit von für zu auf insgesamt jeder jede noch dann wie viele kostet bekommt antwort lautet euro""",
    )
)
_EN_WORDS = frozenset(
    re.findall(
        r"\S+",
        """the a an and is are was were has have had she he they it of to in
    for with each so then total that this how many costs gets answer dollars""",
    )
)


class Phrase(NamedTuple):
    """A final-answer (or weaker) phrase found in a text: where it ends and its language."""

    start: int
    end: int
    lang: str


def _phrases(text: str, patterns: dict[str, re.Pattern[str]]) -> list[Phrase]:
    found = [Phrase(m.start(), m.end(), lang) for lang, p in patterns.items() for m in p.finditer(text)]
    return sorted(found)


def final_phrases(text: str) -> list[Phrase]:
    """The final-answer phrases of (folded) ``text``, of every supported language, in text order."""
    return _phrases(text, _FINAL_RE)


def context_lang(line: str, default: str) -> str:
    """The language a line is written in, as far as number formats go: by script (Cyrillic ru,
    Thai th, Han zh), and for Latin script English or German by common words; else ``default``."""
    scripts = {"ru": len(re.findall(r"[а-яё]", line, re.IGNORECASE)), "th": len(re.findall(r"[\u0e00-\u0e7f]", line)),
               "zh": len(re.findall(r"[\u3400-\u9fff]", line)), "latin": len(re.findall(r"[a-zäöüß]", line, re.I))}  # fmt: skip
    script = max(scripts, key=scripts.__getitem__)
    if not scripts[script]:
        return default
    if script != "latin":
        return script
    words = re.findall(r"[a-zäöüß]+", line.lower())
    de = sum(w in _DE_WORDS for w in words) + len(re.findall(r"[äöüß]", line, re.IGNORECASE))
    en = sum(w in _EN_WORDS for w in words)
    if de != en:
        return "de" if de > en else "en"
    return default if language_key(("en", "de"), default) else "en"  # "de-DE" too


def _number_re(*langs: str) -> re.Pattern[str]:
    return _SPACED_NUMBER_RE if any(language_key(("ru",), lang) for lang in langs) else _NUMBER_RE


def _value(match: re.Match[str], lang: str) -> str | None:
    number = read_number(match.group("num"), lang)
    if number is None or not match.group("sign") or number == "0":
        return number
    return "-" + number


def _stated(text: str, phrase: Phrase, set_lang: str) -> tuple[str, int] | None:
    """The number ``phrase`` states and where its statement (``3 * 4 = 12``) ends, or None."""
    start = phrase.end + len(text[phrase.end :]) - len(text[phrase.end :].lstrip())
    line = text[start:].split("\n", 1)[0]
    stop = _SENTENCE_END.search(line)
    sentence = line[: stop.start()] if stop else line
    lang = phrase.lang if not text[phrase.start :].startswith("####") else context_lang(line, set_lang)
    number_re = _number_re(lang, set_lang)
    found = number_re.search(sentence)
    if not found or _NEGATION.search(sentence[: found.start()]):
        return None
    value, pos, equals = _value(found, lang), found.end(), None
    while (op := _OPERATOR.match(sentence, pos)) and (nxt := number_re.match(sentence, op.end())):
        pos = nxt.end()
        if op.group(1) == "=":
            equals = _value(nxt, lang)
    value = equals or value
    return (value, start + pos) if value is not None else None


def stated_answer(text: str, phrase: Phrase, lang: str) -> str | None:
    """The number a final-answer ``phrase`` of (folded) ``text`` states, or None (see rule 2)."""
    stated = _stated(text, phrase, lang)
    return stated[0] if stated else None


def _last_number(text: str, set_lang: str) -> str | None:
    last = None
    for line in text.split("\n"):
        lang = context_lang(line, set_lang)
        for match in _number_re(lang, set_lang).finditer(line):
            last = _value(match, lang) or last
    return last


def cut_next_question(text: str) -> str:
    """``text`` up to the first line where the model starts a question of its own."""
    for match in _NEXT_QUESTION.finditer(text):
        if text[: match.start()].strip():
            return text[: match.start()]
    return text


def answer_phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """A final-answer pattern from a user's answer phrase (``"Jibu ni {}."`` -> ``Jibu ni``,
    case-insensitive, any spacing, an optional colon), or None when nothing precedes the number."""
    words = fold_text(phrase.split("{}", 1)[0]).split()
    if not words:
        return None
    return _compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"\s*:?")


def parse_number_answer(
    generation: str, lang: str, extra: dict[str, re.Pattern[str]] | None = None
) -> str | None:
    """The final numeric answer of ``generation`` as a canonical string (``"1500"``, ``"-3"``,
    ``"0.5"``), or None; ``lang`` is the set's language. ``extra``: final-answer patterns of
    languages with no built-in phrase (``answer_phrase_pattern``), by language code. See the
    module docstring for the rules."""
    text = cut_next_question(fold_text(generation))
    phrases = sorted(final_phrases(text) + (_phrases(text, extra) if extra else []))
    for phrase in reversed(phrases):
        stated = _stated(text, phrase, lang)
        if stated:
            return stated[0]
    weak = _phrases(text, _WEAK_RE)
    if weak:
        stated = _stated(text, weak[-1], lang)
        if stated and not _NUMBER_RE.search(text[stated[1] :]):
            return stated[0]
    return _last_number(text, lang)
