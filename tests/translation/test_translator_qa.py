"""SelfTranslator end to end on extractive QA with a fake generator: answer markers, projection
of the answer into the translated context, how each answer was found, caching and round trips."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from selftt.tasks import get_task
from selftt.tasks.qa import QATask
from selftt.translation import pieces as pieces_module
from selftt.translation.filters import FilterSettings
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.translator import SelfTranslator, TranslatingModel, TranslationSettings
from selftt.utils.distributed import Distributed

CONTEXT = "Berlin is the capital of Germany. It has many museums."
CONTEXT_DE = "Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen."
OFF = dict(
    empty=False, truncated=False, empty_line=False, lost_question=False, scaffolding=False, untranslated=False,
    length_ratio=False, repetition=False, script=False, numbers=False, language_id=False, duplicates=False,
    round_trip=False,
)

BASE = {
    "What is Berlin?": "Was ist Berlin?",
    "What does Berlin have?": "Was hat Berlin?",
    "Berlin is the capital of Germany.": "Berlin ist die Hauptstadt Deutschlands.",
    "It has many museums.": "Es hat viele Museen.",
    "It has [many museums].": "Es hat [viele Museen].",
    "many museums": "viele Museen",
}


def qa(qa_id: str, question: str, *answers: tuple[str, int]) -> dict:
    return {
        "id": qa_id,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
    }


def write_squad(path, qas, context=CONTEXT):
    doc = {"version": "1.1", "data": [{"title": "Berlin", "paragraphs": [{"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Out:
    text: str
    finish_reason: str


def source_of(prompt: str) -> str:
    last = prompt.rsplit("\n\n", 1)[-1]  # "English: <text>\nGerman:"
    return last.split(": ", 1)[1].rsplit("\n", 1)[0]


class FakeGenerator:
    table: dict[str, str] = {}
    prompts: list[str] = []

    def __init__(self, model, tokenizer, settings):
        pass

    def generate_detailed(self, prompts, stop=(), max_new_tokens=None):
        type(self).prompts += list(prompts)
        return [Out(" " + type(self).table[source_of(p)], "stop") for p in prompts]


class FakeTokenizer:
    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


@pytest.fixture
def fake(monkeypatch):
    FakeGenerator.table = dict(BASE)
    FakeGenerator.prompts = []
    monkeypatch.setattr(pieces_module, "BatchedGenerator", FakeGenerator)
    return FakeGenerator


@pytest.fixture
def translating(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return TranslatingModel(model=object(), tokenizer=FakeTokenizer(), name_or_path=str(folder), quantization="none")


@pytest.fixture
def examples(tmp_path):
    path = write_squad(tmp_path / "dev.json", [qa("q1", "What is Berlin?", ("the capital", 10))])
    return QATask().load(str(path), "en")


def translator(tmp_path, **filters) -> SelfTranslator:
    return SelfTranslator(
        get_task("qa"),
        TranslationSettings(
            prompt=TranslationPrompt(n_shots=2),
            filters=FilterSettings(**{**OFF, **filters}),
            cache_dir=tmp_path / "cache",
            retries=0,
        ),
    )


def run(tmp_path, translating, examples, **filters):
    return translator(tmp_path, **filters).run(translating, examples, "en", "de", Distributed())


def assert_span(example):
    start = example["answer_start"]
    assert example["context"][start : start + len(example["answer"])] == example["answer"]


def test_example_loaded(examples):
    assert examples == [
        {
            "id": "q1",
            "lang": "en",
            "context": CONTEXT,
            "question": "What is Berlin?",
            "answer": "the capital",
            "answers": ["the capital"],
            "answer_start": 10,
        }
    ]


def test_markers_kept(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist [die Hauptstadt] Deutschlands."
    fake.table["the capital"] = "das Kapital"  # not used: the markers say where the answer is
    outcome = run(tmp_path, translating, examples)
    # the answer is marked in the prompt
    assert any(p.endswith("English: Berlin is [the capital] of Germany.\nGerman:") for p in fake.prompts)
    assert not any(p.endswith("English: Berlin is the capital of Germany.\nGerman:") for p in fake.prompts)
    assert len(outcome.pairs) == 1
    source, translated = outcome.pairs[0]
    assert source == examples[0]
    assert translated == {
        "id": "q1@de",
        "source_id": "q1",
        "lang": "de",
        "context": CONTEXT_DE,
        "question": "Was ist Berlin?",
        "answer": "die Hauptstadt",
        "answers": ["die Hauptstadt"],
        "answer_start": 11,
    }
    assert "[" not in translated["context"] and "]" not in translated["context"]
    assert_span(translated)
    [row] = outcome.records
    assert row["answer_found"] == {"method": "marker", "score": 100.0}
    assert row["kept"] is True and row["reasons"] == []
    assert row["translation"] == {"context": CONTEXT_DE, "question": "Was ist Berlin?", "answer": "die Hauptstadt"}
    assert outcome.extra["answer_found"] == {"marker": 1, "exact": 0, "fuzzy": 0, "none": 0}
    assert outcome.counts["kept"] == 1 and outcome.counts["total"] == 1


def test_cache_holds_marked_context_and_is_reused(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist [die Hauptstadt] Deutschlands."
    fake.table["the capital"] = "die Hauptstadt"
    first = run(tmp_path, translating, examples)
    assert (first.translated_now, first.cached) == (1, 0)
    [part] = sorted(first.cache_dir.glob("part-*.jsonl"))
    [record] = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    assert record["fields"]["context"] == "Berlin ist [die Hauptstadt] Deutschlands. Es hat viele Museen."
    assert record["finish"] == {"context": ["stop", "stop"], "question": ["stop"], "answer": ["stop"]}
    meta = json.loads((first.cache_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["decoding"]["answer_markers"] == ["[", "]"]
    assert meta["inputs"]["decoding"]["segment"] == "sentence"
    assert "config.json" in meta["inputs"]["model"]["files"]
    n = len(fake.prompts)
    again = run(tmp_path, translating, examples)
    assert (again.translated_now, again.cached) == (0, 1)
    assert len(fake.prompts) == n
    assert again.pairs == first.pairs
    assert again.records == first.records


def test_markers_lost_answer_found_exactly(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist die Hauptstadt Deutschlands."
    fake.table["the capital"] = "Die Hauptstadt"
    outcome = run(tmp_path, translating, examples)
    [row] = outcome.records
    assert row["answer_found"] == {"method": "exact", "score": 100.0}
    assert row["kept"] is True
    _, translated = outcome.pairs[0]
    assert translated["context"] == CONTEXT_DE
    assert translated["answer"] == "die Hauptstadt"  # the span of the context, not the answer as translated
    assert translated["answer_start"] == 11
    assert translated["answers"] == ["die Hauptstadt"]
    assert_span(translated)
    assert outcome.extra["answer_found"] == {"marker": 0, "exact": 1, "fuzzy": 0, "none": 0}


def test_markers_lost_answer_found_fuzzily(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist die Hauptstadt Deutschlands."
    fake.table["the capital"] = "die Haupstadt"
    outcome = run(tmp_path, translating, examples)
    [row] = outcome.records
    assert row["answer_found"] == {"method": "fuzzy", "score": 92.3}
    assert row["kept"] is True
    _, translated = outcome.pairs[0]
    assert translated["answer"] == "die Hauptstadt" and translated["answer_start"] == 11
    assert translated["answers"] == ["die Hauptstadt"]
    assert_span(translated)
    assert outcome.extra["answer_found"] == {"marker": 0, "exact": 0, "fuzzy": 1, "none": 0}


def test_fuzzy_below_min_score_is_none(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist die Hauptstadt Deutschlands."
    fake.table["the capital"] = "die Haupstadt"
    outcome = run(tmp_path, translating, examples, answer_min_score=95.0)
    assert outcome.records[0]["answer_found"] == {"method": "none", "score": None}
    assert outcome.records[0]["reasons"] == ["example:answer_in_context"]


def test_answer_nowhere_is_rejected(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist die Hauptstadt Deutschlands."
    fake.table["the capital"] = "Paris"
    outcome = run(tmp_path, translating, examples)
    [row] = outcome.records
    assert row["answer_found"] == {"method": "none", "score": None}
    assert row["kept"] is False
    assert row["reasons"] == ["example:answer_in_context"]
    assert row["translation"] == {"context": CONTEXT_DE, "question": "Was ist Berlin?", "answer": "Paris"}
    assert outcome.pairs == []
    assert outcome.counts["answer_in_context"] == 1
    assert outcome.counts["kept"] == 0 and outcome.counts["total"] == 1
    assert outcome.extra["answer_found"] == {"marker": 0, "exact": 0, "fuzzy": 0, "none": 1}


def test_answer_nowhere_kept_with_qa_answer_keep(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist die Hauptstadt Deutschlands."
    fake.table["the capital"] = "Paris"
    outcome = run(tmp_path, translating, examples, qa_answer="keep")
    [row] = outcome.records
    assert row["kept"] is True and row["answer_found"] == {"method": "none", "score": None}
    _, translated = outcome.pairs[0]
    assert translated["answer"] == "Paris" and translated["answer_start"] is None


def two_questions(tmp_path) -> list[dict]:
    """Two questions on CONTEXT: one answered in its first sentence, one in its second."""
    path = write_squad(
        tmp_path / "two.json",
        [qa("q1", "What is Berlin?", ("the capital", 10)), qa("q2", "What does Berlin have?", ("many museums", 41))],
    )
    return QATask().load(str(path), "en")


def test_two_questions_one_context(tmp_path, fake, translating):
    examples = two_questions(tmp_path)
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist [die Hauptstadt] Deutschlands."
    fake.table["the capital"] = "die Hauptstadt"
    outcome = run(tmp_path, translating, examples)
    sources = [source_of(p) for p in fake.prompts]
    # each marked context sentence once; the unmarked ones are shared by the two contexts
    assert sorted(sources) == sorted(
        [
            "Berlin is [the capital] of Germany.",
            "It has many museums.",
            "Berlin is the capital of Germany.",
            "It has [many museums].",
            "What is Berlin?",
            "What does Berlin have?",
            "the capital",
            "many museums",
        ]
    )
    assert [t["answer"] for _, t in outcome.pairs] == ["die Hauptstadt", "viele Museen"]
    assert [t["answer_start"] for _, t in outcome.pairs] == [11, 47] == [CONTEXT_DE.index("die Hauptstadt"), CONTEXT_DE.index("viele Museen")]
    assert all(t["context"] == CONTEXT_DE for _, t in outcome.pairs)
    for _, t in outcome.pairs:
        assert_span(t)
    assert outcome.extra["answer_found"] == {"marker": 2, "exact": 0, "fuzzy": 0, "none": 0}


def test_no_markers_setting(tmp_path, fake, translating, examples):
    fake.table["the capital"] = "die Hauptstadt"
    settings = TranslationSettings(
        prompt=TranslationPrompt(n_shots=2),
        filters=FilterSettings(**OFF),
        cache_dir=tmp_path / "cache",
        retries=0,
        answer_markers=None,
    )
    outcome = SelfTranslator(get_task("qa"), settings).run(translating, examples, "en", "de", Distributed())
    assert not any("[" in source_of(p) for p in fake.prompts)
    assert outcome.records[0]["answer_found"] == {"method": "exact", "score": 100.0}
    assert outcome.pairs[0][1]["answer_start"] == 11


def test_round_trip_rejects_unfaithful_back_translation(tmp_path, fake, translating, examples):
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist [die Hauptstadt] Deutschlands."
    fake.table["the capital"] = "die Hauptstadt"
    # back translations (German -> English)
    fake.table["Berlin ist die Hauptstadt Deutschlands."] = "Berlin is the capital of Germany."
    fake.table["Es hat viele Museen."] = "It has many museums."
    fake.table["Was ist Berlin?"] = "Where is the cat sitting today?"
    fake.table["die Hauptstadt"] = "the capital"
    outcome = run(tmp_path, translating, examples, round_trip=True)
    back_prompts = [p for p in fake.prompts if p.endswith("\nEnglish:")]
    assert sorted(source_of(p) for p in back_prompts) == sorted(
        ["Berlin ist die Hauptstadt Deutschlands.", "Es hat viele Museen.", "Was ist Berlin?", "die Hauptstadt"]
    )
    [row] = outcome.records
    assert row["reasons"] == ["question:round_trip"]
    assert outcome.counts["round_trip"] == 1 and outcome.counts["kept"] == 0


def test_round_trip_translates_back_only_what_the_other_rules_keep(tmp_path, fake, translating):
    examples = two_questions(tmp_path)
    fake.table["Berlin is [the capital] of Germany."] = "Berlin ist [die Hauptstadt] Deutschlands."
    fake.table["It has [many museums]."] = "Es hat etwas."  # markers lost, answer nowhere: answer_in_context
    fake.table["the capital"] = "die Hauptstadt"
    fake.table["Berlin ist die Hauptstadt Deutschlands."] = "Berlin is the capital of Germany."
    fake.table["Es hat viele Museen."] = "It has many museums."
    fake.table["Was ist Berlin?"] = "What is Berlin?"
    fake.table["die Hauptstadt"] = "the capital"
    outcome = run(tmp_path, translating, examples, round_trip=True)
    back_sources = {source_of(p) for p in fake.prompts if p.endswith("\nEnglish:")}
    assert "Was hat Berlin?" not in back_sources and "Was ist Berlin?" in back_sources
    assert [r["reasons"] for r in outcome.records] == [[], ["example:answer_in_context"]]
    assert outcome.counts["round_trip"] == 0 and outcome.counts["kept"] == 1


def test_broken_context_sentence_left_out_and_counted(tmp_path, fake, translating):
    """A context sentence whose translation stays broken (a runaway loop) is left out of the
    translated context when it does not hold the answer; the example is kept and counted."""
    long = "The museum opens at nine in the morning and closes at six in the evening, every day of the year."
    context = f"Berlin is the capital of Germany. It has many museums. {long} The river is long."
    fake.table |= {
        "Berlin is [the capital] of Germany.": "Berlin ist [die Hauptstadt] Deutschlands.",
        long: "Das Museum" + " Museum" * 12,  # a loop: fails every retry
        "The river is long.": "Der Fluss ist lang.",
        "the capital": "die Hauptstadt",
    }
    path = write_squad(tmp_path / "dev.json", [qa("q1", "What is Berlin?", ("the capital", 10))], context)
    examples = QATask().load(str(path), "en")
    settings = dict(prompt=TranslationPrompt(n_shots=2), filters=FilterSettings(), retries=1)
    outcome = SelfTranslator(
        get_task("qa"), TranslationSettings(**settings, cache_dir=tmp_path / "cache")
    ).run(translating, examples, "en", "de", Distributed())
    [row] = outcome.records
    assert row["kept"], row["reasons"]
    assert row["translation"]["context"] == "Berlin ist die Hauptstadt Deutschlands. Es hat viele Museen. Der Fluss ist lang."
    assert outcome.extra["pieces_left_out"] == {"pieces": 1, "examples": 1}
    assert row["source"]["context"] == context  # the record shows the whole source
    # the filters compared the context with the source without that sentence: against the whole
    # paragraph (more than half of it left out) the length ratio would have rejected it
    # off: the loop stays, and the filters reject the whole context
    whole = SelfTranslator(
        get_task("qa"), TranslationSettings(**settings, cache_dir=tmp_path / "cache2", drop_failed_pieces=0.0)
    ).run(translating, examples, "en", "de", Distributed())
    assert whole.records[0]["reasons"] == ["context:repetition"]
    assert "Museum Museum" in whole.records[0]["translation"]["context"]
    assert whole.extra["pieces_left_out"] == {"pieces": 0, "examples": 0}
