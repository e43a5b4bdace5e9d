"""Tests for piece-wise translation: marking, prompts, de-duplication, piece checks and retries,
with a fake generator in place of the model."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pytest

from selftt.modules.generation import GenerationSettings
from selftt.translation import pieces as pieces_module
from selftt.translation.pieces import PieceCheck, PieceSettings, marked_pieces, translate_pieces
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.shots import load_shots

SHOTS = load_shots(None, "en", "de")
PROMPT = TranslationPrompt(n_shots=2)
MARKERS = ("[", "]")

GERMAN = {
    "Berlin is the capital of Germany.": "Berlin ist die Hauptstadt Deutschlands.",
    "Berlin is [the capital] of Germany.": "Berlin ist [die Hauptstadt] Deutschlands.",
    "It has many museums.": "Es hat viele Museen.",
    "The museum opens at nine.": "Das Museum öffnet um neun.",
    "The museums open on Sundays.": "Die Museen öffnen sonntags.",
    "Berlin is the capital of Germany. It has many museums.": "Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen.",
    "Line one is about the old city.\nLine two is about the river.": "Zeile eins handelt von der Altstadt.\nZeile zwei handelt vom Fluss.",
    "Line one is about the old city.": "Zeile eins handelt von der Altstadt.",
    "Line two is about the river.": "Zeile zwei handelt vom Fluss.",
    "See [ch. 5].": "Siehe [Kap. 5].",
    "It is good.": "Es ist gut.",
    "The [old] city is Berlin.": "Die [alte] Stadt ist Berlin.",
}


@dataclass(frozen=True)
class Out:
    text: str
    finish_reason: str


def source_of(prompt: str) -> str:
    """The text a prompt asks to translate: after the last 'English: ', before the final 'German:'."""
    assert prompt.endswith("\nGerman:")
    return prompt.rsplit("English: ", 1)[1][: -len("\nGerman:")]


class FakeGenerator:
    """Stands in for BatchedGenerator; translates by table, records every call."""

    calls: list[dict] = []
    created: list[tuple] = []
    echo_first: set[str] = set()  # sources returned untranslated on their first request
    drop_markers_first: set[str] = set()  # sources whose first translation loses the markers
    always_echo: set[str] = set()
    finish: dict[str, str] = {}
    seen: dict[str, int] = {}

    def __init__(self, model, tokenizer, settings):
        type(self).created.append((model, tokenizer, settings))

    def generate_detailed(self, prompts, stop=(), max_new_tokens=None):
        cls = type(self)
        cls.calls.append({"prompts": list(prompts), "stop": list(stop), "max_new_tokens": max_new_tokens})
        outs = []
        for prompt in prompts:
            src = source_of(prompt)
            n = cls.seen.get(src, 0)
            cls.seen[src] = n + 1
            if src in cls.always_echo or (n == 0 and src in cls.echo_first):
                text = src
            elif n == 0 and src in cls.drop_markers_first:
                text = GERMAN[src].replace("[", "").replace("]", "")
            else:
                text = GERMAN[src]
            outs.append(Out(" " + text, cls.finish.get(src, "stop")))
        return outs


class FakeTokenizer:
    def __call__(self, text, add_special_tokens=False):
        assert add_special_tokens is False
        return {"input_ids": text.split()}


@pytest.fixture
def fake(monkeypatch):
    FakeGenerator.calls = []
    FakeGenerator.created = []
    FakeGenerator.echo_first = set()
    FakeGenerator.drop_markers_first = set()
    FakeGenerator.always_echo = set()
    FakeGenerator.finish = {}
    FakeGenerator.seen = {}
    monkeypatch.setattr(pieces_module, "BatchedGenerator", FakeGenerator)
    return FakeGenerator


def settings(**kw) -> PieceSettings:
    base = PieceSettings(
        prompt=PROMPT,
        generation=GenerationSettings(max_new_tokens=64),
        segment="sentence",
        max_new_tokens_ratio=2.0,
        max_new_tokens_extra=3,
        answer_markers=None,
    )
    return replace(base, **kw)


def run(texts, spans=None, **kw):
    return translate_pieces(object(), FakeTokenizer(), texts, "en", "de", SHOTS, settings(**kw), spans)


def budget(piece: str, ratio: float = 2.0, extra: int = 3) -> int:
    return math.ceil(ratio * len(piece.split())) + extra


# ---------------------------------------------------------------- marked_pieces
def test_marked_pieces_marks_answer():
    text = "Berlin is the capital of Germany. It has many museums."
    start = text.index("the capital")
    assert marked_pieces(text, "en", "sentence", (start, start + 11), MARKERS) == [
        ["Berlin is [the capital] of Germany.", "It has many museums."]
    ]


def test_marked_pieces_merges_a_split_answer():
    text = "See ch. 5. It is good."
    assert marked_pieces(text, "en", "sentence", None, None) == [["See ch.", "5.", "It is good."]]
    assert marked_pieces(text, "en", "sentence", (4, 9), MARKERS) == [["See [ch. 5].", "It is good."]]


def test_marked_pieces_no_marking():
    text = "Berlin is big.\nIt is old."
    assert marked_pieces(text, "en", "sentence", (10, 20), MARKERS) == [["Berlin is big."], ["It is old."]]  # crosses a line
    assert marked_pieces(text, "en", "sentence", (0, 6), None) == [["Berlin is big."], ["It is old."]]
    assert marked_pieces(text, "en", "sentence", None, MARKERS) == [["Berlin is big."], ["It is old."]]
    # a piece already holding a marker is not marked
    other = "The [old] city is Berlin."
    assert marked_pieces(other, "en", "sentence", (18, 24), MARKERS) == [["The [old] city is Berlin."]]


def test_marked_pieces_line_and_none():
    text = "Berlin is big. It is old.\nSecond line."
    assert marked_pieces(text, "en", "line", (10, 13), MARKERS) == [["Berlin is [big]. It is old."], ["Second line."]]
    assert marked_pieces(text, "en", "none", (10, 13), MARKERS) == [["Berlin is [big]. It is old.\nSecond line."]]


# ---------------------------------------------------------------- translate_pieces
def test_sentences_translated_once_and_joined(fake):
    texts = [
        "Berlin is the capital of Germany. It has many museums.",
        "It has many museums.\n\nThe museum opens at nine.",
        "",
    ]
    out = run(texts)
    assert out == [
        ("Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen.", ["stop", "stop"]),
        ("Es hat viele Museen.\n\nDas Museum öffnet um neun.", ["stop", "stop"]),
        ("", []),
    ]
    assert len(fake.calls) == 1  # all passed the piece check: no retry
    call = fake.calls[0]
    pieces = [source_of(p) for p in call["prompts"]]
    assert pieces == ["Berlin is the capital of Germany.", "It has many museums.", "The museum opens at nine."]
    assert call["prompts"][0] == PROMPT.build("Berlin is the capital of Germany.", SHOTS, "en", "de")
    assert call["stop"] == ["\n", "\n\n", "\nEnglish:"]
    assert call["max_new_tokens"] == [budget(p) for p in pieces] == [15, 11, 13]
    model, tokenizer, gen = fake.created[0]
    assert gen == GenerationSettings(max_new_tokens=64)


def test_finish_reasons_per_piece(fake):
    fake.finish = {"It has many museums.": "end"}
    out = run(["Berlin is the capital of Germany. It has many museums."], retries=0)
    assert out == [("Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen.", ["stop", "end"])]


def test_failed_piece_retried_with_rotated_shots(fake, caplog):
    fake.echo_first = {"The museum opens at nine."}
    texts = ["It has many museums. The museum opens at nine.", "The museum opens at nine."]
    with caplog.at_level("INFO", logger="selftt.translation.pieces"):
        out = run(texts)
    assert out == [
        ("Es hat viele Museen. Das Museum öffnet um neun.", ["stop", "stop"]),
        ("Das Museum öffnet um neun.", ["stop"]),
    ]
    assert len(fake.calls) == 2
    first, again = fake.calls
    assert len(first["prompts"]) == 2  # the shared sentence once
    assert [source_of(p) for p in again["prompts"]] == ["The museum opens at nine."]
    retry = again["prompts"][0]
    assert retry == PROMPT.build("The museum opens at nine.", SHOTS[2:] + SHOTS[:2], "en", "de")
    assert retry != first["prompts"][1]
    assert SHOTS[2][0] in retry and SHOTS[3][0] in retry
    assert SHOTS[0][0] not in retry and SHOTS[1][0] not in retry
    assert again["max_new_tokens"] == [budget("The museum opens at nine.")]
    assert again["stop"] == first["stop"]
    assert "1 of 2 pieces failed a piece check; 1 repaired" in caplog.text


def test_lost_markers_are_retried(fake):
    fake.drop_markers_first = {"Berlin is [the capital] of Germany."}
    text = "Berlin is the capital of Germany. It has many museums."
    start = text.index("the capital")
    out = run([text], spans=[(start, start + len("the capital"))], answer_markers=MARKERS)
    assert out == [("Berlin ist [die Hauptstadt] Deutschlands. Es hat viele Museen.", ["stop", "stop"])]
    assert "English: Berlin is [the capital] of Germany.\nGerman:" in fake.calls[0]["prompts"][0]
    assert len(fake.calls) == 2
    assert [source_of(p) for p in fake.calls[1]["prompts"]] == ["Berlin is [the capital] of Germany."]


def test_markers_only_with_answer_markers(fake):
    text = "Berlin is the capital of Germany."
    out = run([text], spans=[(10, 21)], answer_markers=None)
    assert out == [("Berlin ist die Hauptstadt Deutschlands.", ["stop"])]
    assert "[" not in fake.calls[0]["prompts"][0].rsplit("English: ", 1)[1]


def test_spans_per_text(fake):
    text = "Berlin is the capital of Germany."
    out = run([text, text], spans=[(10, 21), None], answer_markers=MARKERS)
    assert out == [
        ("Berlin ist [die Hauptstadt] Deutschlands.", ["stop"]),
        ("Berlin ist die Hauptstadt Deutschlands.", ["stop"]),
    ]
    assert sorted(source_of(p) for p in fake.calls[0]["prompts"]) == [
        "Berlin is [the capital] of Germany.",
        "Berlin is the capital of Germany.",
    ]


def test_spans_must_match_texts(fake):
    with pytest.raises(ValueError):
        run(["Berlin is the capital of Germany."], spans=[None, None])


def test_no_retries(fake):
    fake.echo_first = {"The museum opens at nine."}
    out = run(["The museum opens at nine."], retries=0)
    assert out == [("The museum opens at nine.", ["stop"])]
    assert len(fake.calls) == 1


def test_no_retries_zero_shot(fake):
    fake.echo_first = {"The museum opens at nine."}
    out = run(["The museum opens at nine."], prompt=TranslationPrompt(n_shots=0), retries=3)
    assert out == [("The museum opens at nine.", ["stop"])]
    assert len(fake.calls) == 1


def test_retry_that_fails_again_keeps_first_and_rotates_further(fake):
    fake.always_echo = {"The museum opens at nine."}
    out = run(["The museum opens at nine. It has many museums."], retries=2)
    assert out == [("The museum opens at nine. Es hat viele Museen.", ["stop", "stop"])]
    assert len(fake.calls) == 3
    assert fake.calls[1]["prompts"] == [PROMPT.build("The museum opens at nine.", SHOTS[2:] + SHOTS[:2], "en", "de")]
    assert fake.calls[2]["prompts"] == [PROMPT.build("The museum opens at nine.", SHOTS[4:] + SHOTS[:4], "en", "de")]


def test_truncated_piece_retried(fake):
    fake.finish = {"The museum opens at nine.": "length"}
    out = run(["The museum opens at nine."], retries=1)
    # retried once, still cut off: the first output stays, with its finish reason
    assert out == [("Das Museum öffnet um neun.", ["length"])]
    assert len(fake.calls) == 2


def test_segment_line_sends_whole_lines(fake):
    texts = ["Berlin is the capital of Germany. It has many museums.\n\nThe museum opens at nine."]
    out = run(texts, segment="line")
    assert out == [("Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen.\n\nDas Museum öffnet um neun.", ["stop", "stop"])]
    call = fake.calls[0]
    assert [source_of(p) for p in call["prompts"]] == [
        "Berlin is the capital of Germany. It has many museums.",
        "The museum opens at nine.",
    ]
    assert call["stop"] == ["\n", "\n\n", "\nEnglish:"]


def test_segment_none_sends_whole_field(fake):
    text = "Line one is about the old city.\nLine two is about the river."
    out = run([text], segment="none")
    assert out == [("Zeile eins handelt von der Altstadt.\nZeile zwei handelt vom Fluss.", ["stop"])]
    call = fake.calls[0]
    assert [source_of(p) for p in call["prompts"]] == [text]
    assert "\n" not in call["stop"]
    assert call["stop"] == ["\n\n", "\nEnglish:"]
    assert call["max_new_tokens"] == [budget(text)]


def test_segment_sentence_splits_lines_of_the_same_field(fake):
    text = "Line one is about the old city.\nLine two is about the river."
    out = run([text])
    assert out == [("Zeile eins handelt von der Altstadt.\nZeile zwei handelt vom Fluss.", ["stop", "stop"])]
    assert len(fake.calls[0]["prompts"]) == 2


def test_adapter_switched_off(fake):
    events = []

    class Peft:
        def disable_adapter(self):
            class Ctx:
                def __enter__(self_inner):
                    events.append("off")

                def __exit__(self_inner, *exc):
                    events.append("on")

            return Ctx()

    out = translate_pieces(Peft(), FakeTokenizer(), ["It is good."], "en", "de", SHOTS, settings(), None)
    assert out == [("Es ist gut.", ["stop"])]
    assert events == ["off", "on"]


# ---------------------------------------------------------------- PieceCheck
@pytest.mark.parametrize(
    ("piece", "translation", "finish", "fails"),
    [
        ("Berlin is [the capital] of Germany.", "Berlin ist [die Hauptstadt] Deutschlands.", "stop", False),
        ("Berlin is [the capital] of Germany.", "Berlin ist die Hauptstadt Deutschlands.", "stop", True),
        ("Berlin is [the capital] of Germany.", "Berlin ist [die Hauptstadt Deutschlands.", "stop", True),
        ("The museum opens at nine.", "The museum opens at nine.", "stop", True),
        ("The museum opens at nine.", "Das Museum öffnet um neun.", "stop", False),
        ("The museum opens at nine.", "Das Museum öffnet um neun.", "end", False),
        ("The museum opens at nine.", "Das Museum öffnet um neun.", "length", True),
        ("The museum opens at nine.", "  ", "stop", True),
        ("Does the museum open at nine?", "Das Museum öffnet um neun.", "stop", True),
    ],
)
def test_piece_check(piece, translation, finish, fails):
    marked = "[" in piece  # the pieces of this table that hold markers were given them
    assert PieceCheck("en", "de", SHOTS, MARKERS).fails(piece, translation, finish, marked) is fails


def test_piece_check_without_markers_ignores_brackets():
    check = PieceCheck("en", "de", SHOTS)
    assert check.fails("Berlin is [the capital] of Germany.", "Berlin ist die Hauptstadt Deutschlands.", "stop") is False


def test_piece_check_fixed_settings():
    check = PieceCheck("en", "de", SHOTS)
    assert check.settings.duplicates is False and check.settings.round_trip is False
    assert check.settings.numbers is False and check.settings.language_id is True


def test_segment_none_translates_each_paragraph_whole(fake, monkeypatch):
    # a prompt cannot hold a blank line: each paragraph is one piece, the blank line is kept
    text = "Line one is about the old city.\n\nLine two is about the river."
    monkeypatch.setitem(GERMAN, "Line one is about the old city.", "Zeile eins handelt von der Altstadt.")
    monkeypatch.setitem(GERMAN, "Line two is about the river.", "Zeile zwei handelt vom Fluss.")
    out = run([text], segment="none")
    assert out == [("Zeile eins handelt von der Altstadt.\n\nZeile zwei handelt vom Fluss.", ["stop", "stop"])]


def test_piece_check_unmarked_source_brackets_pass():
    # brackets of the source text are not answer markers: only pieces given markers must keep them
    check = PieceCheck("en", "de", SHOTS, MARKERS)
    piece = "See sections [1] and [2] for the details of the museum."
    assert check.fails(piece, "Siehe Abschnitte [1] und [2] für die Einzelheiten des Museums.", "stop") is False
    assert check.fails(piece, "Siehe Abschnitte 1 und 2 für die Einzelheiten des Museums.", "stop") is False


@pytest.mark.parametrize(("n_pairs", "n_shots"), [(8, 4), (4, 4), (10, 4), (6, 2), (3, 2)])
def test_each_retry_sees_a_different_prompt(n_pairs, n_shots):
    shots = [(f"en {i}", f"de {i}") for i in range(n_pairs)]
    starts = [pieces_module._rotated(shots, attempt, n_shots)[0] for attempt in range(n_pairs)]
    assert len(set(starts)) == n_pairs  # every rotation once before any repeats
    assert pieces_module._rotated(shots, 1, n_shots)[0] == shots[n_shots % n_pairs or 1]
    assert all(sorted(pieces_module._rotated(shots, a, n_shots)) == sorted(shots) for a in range(2 * n_pairs))


def test_retries_stop_where_the_shots_run_out_of_rotations(fake):
    fake.always_echo = {"The museum opens at nine."}
    run(["The museum opens at nine."], retries=16)
    assert len(fake.calls) == len(SHOTS)  # the first try and one retry per other rotation
    prompts = [c["prompts"][0] for c in fake.calls]
    assert len(set(prompts)) == len(prompts)


# ---------------------------------------------------------------- drop_failed_pieces
CONTEXT = "Berlin is the capital of Germany. It has many museums. The museum opens at nine. The museums open on Sundays."
ANSWER = (CONTEXT.index("the capital"), CONTEXT.index("the capital") + len("the capital"))


def test_failed_piece_left_out_of_a_marked_context(fake):
    fake.always_echo = {"The museum opens at nine."}  # fails every retry (untranslated)
    out = run([CONTEXT], [ANSWER], answer_markers=MARKERS, retries=1, drop_failed_pieces=0.25)
    text, finish = out[0]
    assert text == "Berlin ist [die Hauptstadt] Deutschlands. Es hat viele Museen. Die Museen öffnen sonntags."
    assert finish == ["stop", "stop", pieces_module.DROPPED, "stop"]


def test_failed_pieces_kept_when_more_than_the_share(fake):
    fake.always_echo = {"The museum opens at nine.", "It has many museums."}  # 2 of 4 > floor(0.25 x 4)
    text, finish = run([CONTEXT], [ANSWER], answer_markers=MARKERS, retries=1, drop_failed_pieces=0.25)[0]
    assert "The museum opens at nine." in text and "It has many museums." in text
    assert pieces_module.DROPPED not in finish
    text, finish = run([CONTEXT], [ANSWER], answer_markers=MARKERS, retries=1, drop_failed_pieces=0.5)[0]
    assert text == "Berlin ist [die Hauptstadt] Deutschlands. Die Museen öffnen sonntags."
    assert finish.count(pieces_module.DROPPED) == 2


def test_failed_answer_piece_never_dropped(fake):
    fake.always_echo = {"Berlin is [the capital] of Germany."}
    text, finish = run([CONTEXT], [ANSWER], answer_markers=MARKERS, retries=1, drop_failed_pieces=0.5)[0]
    assert text.startswith("Berlin is [the capital] of Germany.")
    assert pieces_module.DROPPED not in finish


@pytest.mark.parametrize("kw", [{"drop_failed_pieces": 0.0}, {"answer_markers": None}])
def test_nothing_dropped_when_off_or_unmarked(fake, kw):
    """Off, or no marked answer (a question, a reasoning line, an NLI premise): the text stays whole."""
    fake.always_echo = {"The museum opens at nine."}
    args = {"answer_markers": MARKERS, "retries": 1, "drop_failed_pieces": 0.25, **kw}
    text, finish = run([CONTEXT], [ANSWER], **args)[0]
    assert "The museum opens at nine." in text
    assert pieces_module.DROPPED not in finish
    text, finish = run([CONTEXT], None, answer_markers=MARKERS, retries=1, drop_failed_pieces=0.25)[0]
    assert "The museum opens at nine." in text


def test_kept_source_leaves_out_the_dropped_pieces():
    d = pieces_module.DROPPED
    assert pieces_module.kept_source(CONTEXT, "en", "sentence", ANSWER, MARKERS, ["stop", "stop", d, "stop"]) == (
        "Berlin is the capital of Germany. It has many museums. The museums open on Sundays."
    )
    assert pieces_module.kept_source(CONTEXT, "en", "sentence", ANSWER, MARKERS, ["stop"] * 4) == CONTEXT
    # pieces and finish reasons that do not line up: the whole text, nothing guessed
    assert pieces_module.kept_source(CONTEXT, "en", "sentence", ANSWER, MARKERS, ["stop", d]) == CONTEXT
    lines = "Line one is about the old city.\nLine two is about the river."
    assert pieces_module.kept_source(lines, "en", "sentence", None, None, [d, "stop"]) == "\nLine two is about the river."
