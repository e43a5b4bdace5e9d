"""Tests for the NLI task (MultiNLI / XNLI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selftt.errors import DataError
from selftt.tasks.nli import LABEL_WORDS, LABELS, NLITask, normalize_label

LANGS = ("en", "de", "ru", "th", "zh")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def at(path: Path, line: int) -> str:
    return re.escape(f"{path}:{line}:")


# ----------------------------------------------------------------------------- loading


def test_load_jsonl_labels_and_aliases(tmp_path):
    rows = [
        {"premise": "A man sleeps.", "hypothesis": "A person rests.", "label": "entailment"},
        {"premise": "A dog.", "hypothesis": "A cat.", "label": 2},
        {"sentence1": " It rains. ", "sentence2": "It is wet.", "gold_label": "Neutral"},
        {"premise": "P", "hypothesis": "H", "label": "0", "id": "custom"},
    ]
    examples = NLITask().load(str(write(tmp_path / "mnli.jsonl", jsonl(rows))), "en")
    assert examples[0] == {
        "id": "mnli-1",
        "lang": "en",
        "premise": "A man sleeps.",
        "hypothesis": "A person rests.",
        "label": "entailment",
    }
    assert [e["label"] for e in examples] == ["entailment", "contradiction", "neutral", "entailment"]
    assert examples[2]["premise"] == "It rains." and examples[3]["id"] == "custom"


@pytest.mark.parametrize("label", ["-", 3, -1, "maybe", None, True])
def test_load_bad_label(tmp_path, label):
    rows = [
        {"premise": "P", "hypothesis": "H", "label": 1},
        {"premise": "P", "hypothesis": "H", "label": label},
    ]
    path = write(tmp_path / "d.jsonl", jsonl(rows))
    with pytest.raises(DataError, match=at(path, 2) + ".*is not one of entailment, neutral, contradiction"):
        NLITask().load(str(path), "en")


def test_load_missing_field(tmp_path):
    path = write(tmp_path / "d.jsonl", jsonl([{"premise": "P", "label": 1}]))
    with pytest.raises(
        DataError, match=at(path, 1) + r".*missing field 'hypothesis'; the record has: label, premise"
    ):
        NLITask().load(str(path), "en")


def test_load_truncated_jsonl(tmp_path):
    path = write(
        tmp_path / "d.jsonl", jsonl([{"premise": "P", "hypothesis": "H", "label": 1}]) + '{"premise": "P",\n'
    )
    with pytest.raises(DataError, match=at(path, 2) + ".*malformed JSON"):
        NLITask().load(str(path), "en")


MNLI_HEADER = "gold_label\tsentence1_binary_parse\tsentence1\tsentence2\tpairID\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"premise": "", "hypothesis": "H", "label": 1}, "field 'premise' is empty"),
        ({"premise": "P", "hypothesis": "  ", "label": 1}, "field 'hypothesis' is only whitespace"),
        ({"sentence1": "P", "sentence2": "\t", "gold_label": "neutral"}, "field 'sentence2' is only whitespace"),
    ],
)
def test_load_refuses_empty_text(tmp_path, row, message):
    path = write(tmp_path / "d.jsonl", jsonl([{"premise": "P", "hypothesis": "H", "label": 0}, row]))
    with pytest.raises(DataError, match=at(path, 2) + " " + re.escape(message)):
        NLITask().load(str(path), "en")


def test_load_tsv_refuses_empty_hypothesis(tmp_path):
    path = write(tmp_path / "dev.tsv", MNLI_HEADER + "neutral\t.\tA\tB\t1\nneutral\t.\tC\t \t2\n")
    with pytest.raises(DataError, match=at(path, 3) + " field 'sentence2' is only whitespace"):
        NLITask().load(str(path), "en")


def test_load_mnli_tsv(tmp_path):
    path = write(
        tmp_path / "dev_matched.txt",
        MNLI_HEADER + 'neutral\t( x )\tHe said "no".\tHe spoke.\t1n\ncontradiction\t( y )\tUp.\tDown.\t2c\n',
    )
    examples = NLITask().load(str(path), "en")
    assert [(e["premise"], e["label"], e["id"]) for e in examples] == [
        ('He said "no".', "neutral", "dev_matched-2"),
        ("Up.", "contradiction", "dev_matched-3"),
    ]


def test_load_mnli_unlabeled_row(tmp_path):
    path = write(tmp_path / "dev.tsv", MNLI_HEADER + "neutral\t.\tA\tB\t1\n-\t.\tC\tD\t2\n")
    with pytest.raises(DataError, match=at(path, 3) + r".*label '-' is not one of"):
        NLITask().load(str(path), "en")


def test_load_tsv_wrong_columns(tmp_path):
    path = write(tmp_path / "dev.tsv", MNLI_HEADER + "neutral\t.\tA\tB\n")
    with pytest.raises(DataError, match=at(path, 2) + ".*expected 5 tab-separated columns"):
        NLITask().load(str(path), "en")


XNLI = (
    "language\tgold_label\tsentence1\tsentence2\n"
    "en\tentailment\tA man.\tA person.\n"
    "de\tentailment\tEin Mann.\tEine Person.\n"
    "de\tcontradiction\tEs regnet.\tEs ist trocken.\n"
)


def test_load_xnli_tsv_filters_language(tmp_path):
    path = write(tmp_path / "xnli.dev.tsv", XNLI)
    examples = NLITask().load(str(path), "de")
    assert [(e["id"], e["premise"], e["label"], e["lang"]) for e in examples] == [
        ("xnli.dev-3", "Ein Mann.", "entailment", "de"),
        ("xnli.dev-4", "Es regnet.", "contradiction", "de"),
    ]
    with pytest.raises(DataError, match=r"no examples in language 'zh'.*\['de', 'en'\]"):
        NLITask().load(str(path), "zh")


def test_load_hub_layout(monkeypatch):
    import datasets

    data = datasets.Dataset.from_dict({"premise": ["P1", "P2"], "hypothesis": ["H1", "H2"], "label": [0, 1]})
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config=None, split=None: data)
    examples = NLITask().load("hf://facebook/xnli:de", "de", split="test")
    assert [(e["id"], e["label"]) for e in examples] == [
        ("xnli-de-test-1", "entailment"),
        ("xnli-de-test-2", "neutral"),
    ]
    bad = datasets.Dataset.from_dict({"premise": ["P"], "hypothesis": ["H"], "label": [-1]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: bad)
    with pytest.raises(DataError, match=r"hf://nyu-mll/multi_nli \[train\]:1: label -1"):
        NLITask().load("hf://nyu-mll/multi_nli", "en", split="train")


def test_language_without_texts_uses_english_or_the_users(tmp_path, caplog):
    path = write(tmp_path / "d.jsonl", jsonl([{"premise": "P", "hypothesis": "H", "label": 1}]))
    with caplog.at_level("WARNING"):
        (ex,) = NLITask().load(str(path), "fr")
    assert "no instruction for language 'fr'" in caplog.text
    assert NLITask().target(ex) == "neutral"
    task = NLITask(
        instructions={"sw": ["Je, {0}, {1} au {2}?", "Msingi", "Dhana"]},
        label_words={"sw": ["inafuata", "haina upande", "inapingana"]},
    )
    sw = {**ex, "lang": "sw"}
    assert task.instruction(sw) == "Je, inafuata, haina upande au inapingana?\n\nMsingi: P\nDhana: H"
    assert task.target(sw) == "haina upande"
    assert task.parse_answer("Jibu: Inapingana.", "sw") == "contradiction"
    assert task.parse_answer("neutral", "sw") == "neutral"  # English always counts
    with pytest.raises(ValueError, match=r"label_words\['sw'\] must be 3 words"):
        NLITask(label_words={"sw": ["a", "b"]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "entailment"), (1, "neutral"), (2, "contradiction"), ("2", "contradiction"), (" Entailment ", "entailment"),
     ("-", None), (3, None), (False, None), (1.0, None), ("", None)],
)  # fmt: skip
def test_normalize_label(value, expected):
    assert normalize_label(value) == expected


# ----------------------------------------------------------------------------- prompts


def example(lang: str, label: str = "entailment") -> dict:
    return {"id": "x", "lang": lang, "premise": "PRE", "hypothesis": "HYP", "label": label}


@pytest.mark.parametrize("lang", LANGS)
def test_instruction_names_the_label_words(lang):
    text = NLITask().instruction(example(lang))
    assert all(word in text for word in LABEL_WORDS[lang])
    assert text.index("PRE") < text.index("HYP")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("label", LABELS)
def test_target_reads_back(lang, label):
    task = NLITask()
    target = task.target(example(lang, label))
    assert target == LABEL_WORDS[lang][LABELS.index(label)]
    assert task.parse_answer(target, lang) == label
    assert task.parse_answer(f"  {target.upper()}.\n", lang) == label


@pytest.mark.parametrize(
    ("lang", "generation", "expected"),
    [
        ("en", "Contradiction", "contradiction"),
        ("en", "The hypothesis is neutral with respect to the premise.", "neutral"),
        ("en", "The premise entails the hypothesis.", "entailment"),
        ("en", "It contradicts it, so not entailment.", "contradiction"),
        ("en", "yes", None),
        ("en", "", None),
        ("de", "Widerspruch.", "contradiction"),
        ("de", "Die Hypothese widerspricht der Prämisse.", "contradiction"),
        ("de", "Antwort: Folgerung", "entailment"),
        ("de", "Neutral", "neutral"),
        ("de", "entailment", "entailment"),
        ("ru", "Противоречие", "contradiction"),
        ("ru", "Гипотеза противоречит посылке.", "contradiction"),
        ("ru", "нейтрально", "neutral"),
        ("ru", "Это следование.", "entailment"),
        ("ru", "Ответ: neutral", "neutral"),
        ("th", "ขัดแย้ง", "contradiction"),
        ("th", "คำตอบ: เป็นกลาง", "neutral"),
        ("zh", "矛盾", "contradiction"),
        ("zh", "答案：蕴含。", "entailment"),
        ("zh", "中立", "neutral"),
        ("zh", "不知道", None),
    ],
)
def test_parse_answer(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected


def test_passage_is_a_digest_of_the_premise():
    nli = NLITask()
    pair = {"premise": "Es regnet.", "hypothesis": "Es ist nass."}
    assert nli.passage_of(pair) == nli.passage_of({**pair, "hypothesis": "Es ist trocken."})
    assert nli.passage_of(pair) != nli.passage_of({**pair, "premise": "Die Sonne scheint."})
