"""Tests for the generic file and Hub readers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selftt.errors import DataError
from selftt.tasks.readers import (
    Source,
    check_unique_ids,
    parse_source,
    read_hub,
    read_jsonl,
    read_source,
    read_squad_json,
    read_tsv,
    require_fields,
    require_nonempty_text,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def at(path: Path, line: int) -> str:
    """The 'file:line:' prefix a DataError puts first."""
    return re.escape(f"{path}:{line}:")


# ----------------------------------------------------------------------------- JSONL


def test_read_jsonl_records_and_line_numbers(tmp_path):
    path = write(tmp_path / "a.jsonl", '{"q": "one"}\n\n  \n{"q": "zwei", "n": 2}\n')
    records = read_jsonl(path)
    assert records == [{"q": "one"}, {"q": "zwei", "n": 2}]
    assert [r.line for r in records] == [1, 4]
    assert all(isinstance(r, dict) for r in records)


def test_read_jsonl_accepts_utf8_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"q": "ä"}\r\n{"q": "б"}\r\n'.encode())
    assert [r["q"] for r in read_jsonl(path)] == ["ä", "б"]


def test_read_jsonl_truncated_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", '{"q": 1}\n{"q": 2}\n{"q": "trunc\n')
    with pytest.raises(DataError, match=at(path, 3) + ".*malformed JSON") as info:
        read_jsonl(path)
    assert info.value.line == 3 and info.value.path == str(path)


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', "42", "null"])
def test_read_jsonl_non_object_line(tmp_path, line):
    path = write(tmp_path / "list.jsonl", '{"q": 1}\n' + line + "\n")
    with pytest.raises(DataError, match=at(path, 2) + ".*expected a JSON object"):
        read_jsonl(path)


def test_read_jsonl_not_utf8(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"q": "ok"}\n{"q": "M\xfcller"}\n')
    with pytest.raises(DataError, match=at(path, 2) + ".*not valid UTF-8"):
        read_jsonl(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_read_jsonl_empty_file(tmp_path, text):
    path = write(tmp_path / "empty.jsonl", text)
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*no examples"):
        read_jsonl(path)


def test_read_jsonl_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.jsonl: file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


# ----------------------------------------------------------------------------- TSV


def test_read_tsv_without_header_keeps_quotes(tmp_path):
    path = write(tmp_path / "m.tsv", "Er sagte \"hallo\" und ging.\t18\n\nA 'quoted' one\t3\n")
    records = read_tsv(path, columns=("question", "answer"))
    assert records == [
        {"question": 'Er sagte "hallo" und ging.', "answer": "18"},
        {"question": "A 'quoted' one", "answer": "3"},
    ]
    assert [r.line for r in records] == [1, 3]


def test_read_tsv_unbalanced_quote_does_not_swallow_lines(tmp_path):
    path = write(tmp_path / "q.tsv", 'He said "hi\t1\nnext\t2\n')
    assert [r["answer"] for r in read_tsv(path, columns=("question", "answer"))] == ["1", "2"]


def test_read_tsv_with_header(tmp_path):
    path = write(tmp_path / "h.tsv", "gold_label\tsentence1\tsentence2\nneutral\tA man.\tA person.\n")
    records = read_tsv(path, header=True)
    assert records == [{"gold_label": "neutral", "sentence1": "A man.", "sentence2": "A person."}]
    assert records[0].line == 2


@pytest.mark.parametrize("row", ["only one column", "a\tb\tc"])
def test_read_tsv_wrong_column_count(tmp_path, row):
    path = write(tmp_path / "w.tsv", "q1\t1\n" + row + "\n")
    with pytest.raises(DataError, match=at(path, 2) + ".*expected 2 tab-separated columns"):
        read_tsv(path, columns=("question", "answer"))


def test_read_tsv_header_only_is_empty(tmp_path):
    path = write(tmp_path / "h.tsv", "a\tb\n")
    with pytest.raises(DataError, match="no examples"):
        read_tsv(path, header=True)


def test_read_tsv_not_utf8(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_bytes(b"ok\t1\nok\t2\nbad \xff\t3\n")
    with pytest.raises(DataError, match=at(path, 3) + ".*not valid UTF-8"):
        read_tsv(path, columns=("q", "a"))


# ----------------------------------------------------------------------------- SQuAD JSON


def squad(qas: list[dict], context: str = "Berlin is the capital of Germany.") -> dict:
    return {"version": "1.1", "data": [{"title": "Berlin", "paragraphs": [{"context": context, "qas": qas}]}]}


def qa(qa_id: str = "q1", text: str = "Berlin", start: int = 0) -> dict:
    return {
        "id": qa_id,
        "question": "What is the capital?",
        "answers": [{"text": text, "answer_start": start}],
    }


def test_read_squad_json_flattens(tmp_path):
    doc = squad(
        [qa("q1"), {**qa("q2", "Germany", 25), "answers": [{"text": "Germany", "answer_start": 25}] * 2}]
    )
    path = write(tmp_path / "s.json", json.dumps(doc))
    records = read_squad_json(path)
    assert records[0] == {
        "id": "q1",
        "title": "Berlin",
        "context": "Berlin is the capital of Germany.",
        "question": "What is the capital?",
        "answers": ["Berlin"],
        "answer_starts": [0],
    }
    assert records[1]["answers"] == ["Germany", "Germany"]


def test_read_squad_json_bad_answer_start_names_qa(tmp_path):
    path = write(tmp_path / "s.json", json.dumps(squad([qa("q1"), qa("q-bad", "Germany", 3)])))
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*qa 'q-bad': answer_start 3"):
        read_squad_json(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("data"), "missing key 'data'"),
        (
            lambda d: d["data"][0]["paragraphs"][0].pop("context"),
            "article 0, paragraph 0: missing key 'context'",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0].pop("question"),
            "qa 'q1': missing key 'question'",
        ),
        (lambda d: d["data"][0]["paragraphs"][0]["qas"][0].pop("id"), "question 0: missing key 'id'"),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0]["answers"][0].pop("answer_start"),
            "qa 'q1' answer 0: missing key 'answer_start'",
        ),
    ],
)
def test_read_squad_json_missing_keys(tmp_path, mutate, message):
    doc = squad([qa("q1")])
    mutate(doc)
    path = write(tmp_path / "s.json", json.dumps(doc))
    with pytest.raises(DataError, match=re.escape(message)):
        read_squad_json(path)


def test_read_squad_json_malformed_names_line(tmp_path):
    path = write(tmp_path / "s.json", '{\n  "data": [\n    {"title": }\n')
    with pytest.raises(DataError, match=at(path, 3) + ".*malformed JSON"):
        read_squad_json(path)


def test_read_squad_json_without_questions_is_empty(tmp_path):
    path = write(tmp_path / "s.json", json.dumps(squad([])))
    with pytest.raises(DataError, match="no examples"):
        read_squad_json(path)


# ----------------------------------------------------------------------------- sources and helpers


def test_parse_source(tmp_path):
    path = write(tmp_path / "x.jsonl", "{}\n")
    assert parse_source("hf://openai/gsm8k") == Source("hub", "openai/gsm8k", None)
    assert parse_source("hf://google/xquad:xquad.de") == ("hub", "google/xquad", "xquad.de")
    assert parse_source(str(path)) == ("file", path, None)
    assert parse_source(path).kind == "file"


def test_parse_source_errors(tmp_path):
    with pytest.raises(DataError, match="nope.tsv: file not found"):
        parse_source(str(tmp_path / "nope.tsv"))
    with pytest.raises(DataError, match="not a file"):
        parse_source(str(tmp_path))
    with pytest.raises(DataError, match="no dataset name"):
        parse_source("hf://")


def test_require_fields_lists_missing_and_present(tmp_path):
    require_fields({"a": 1, "b": 2}, ("a",), "f.jsonl", 3)
    with pytest.raises(DataError, match=r"f.jsonl:3: missing field 'question'; the record has: answer, id"):
        require_fields({"id": 1, "answer": 2}, ("question",), "f.jsonl", 3)
    with pytest.raises(DataError, match=r"missing fields 'x', 'y'"):
        require_fields({}, ("x", "y"), "f.jsonl", 1)


def test_read_source_dispatches_on_suffix(tmp_path):
    path = write(tmp_path / "train.jsonl", '{"a": 1}\n')
    table = read_source(str(path), {".jsonl": read_jsonl})
    assert (table.where, table.stem, table.records) == (str(path), "train", [{"a": 1}])
    with pytest.raises(DataError, match=r"unsupported file type '.jsonl'; expected one of .json, .tsv"):
        read_source(str(path), {".tsv": read_tsv, ".json": read_squad_json})


def test_check_unique_ids():
    check_unique_ids([("a", 1), ("b", 2)], "f.jsonl")
    with pytest.raises(DataError, match=r"f.jsonl:5: duplicate example id 'a' \(first at line 1\)"):
        check_unique_ids([("a", 1), ("b", 2), ("a", 5)], "f.jsonl")


# ----------------------------------------------------------------------------- Hub (never online)


def test_read_hub_wraps_failures(monkeypatch):
    import datasets

    def fail(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(DataError, match=r"hf://openai/gsm8k:main \[train\].*could not load.*HF_HUB_OFFLINE"):
        read_hub("openai/gsm8k", "main", "train")


def test_read_hub_rows_and_splits(monkeypatch):
    import datasets

    calls = []
    data = datasets.Dataset.from_dict({"question": ["q1", "q2"], "answer": ["a #### 1", "b #### 2"]})

    def fake(name, config=None, split=None):
        calls.append((name, config, split))
        return data if split else datasets.DatasetDict({"test": data})

    monkeypatch.setattr(datasets, "load_dataset", fake)
    records = read_hub("openai/gsm8k", "main", "train")
    assert records == [{"question": "q1", "answer": "a #### 1"}, {"question": "q2", "answer": "b #### 2"}]
    assert [r.line for r in records] == [1, 2]
    assert calls == [("openai/gsm8k", "main", "train")]
    assert len(read_hub("x/y")) == 2  # a single split is used when none is named

    monkeypatch.setattr(
        datasets, "load_dataset", lambda *a, **k: datasets.DatasetDict({"a": data, "b": data})
    )
    with pytest.raises(DataError, match="has splits a, b"):
        read_hub("x/y")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: data.select([]))
    with pytest.raises(DataError, match="no examples"):
        read_hub("x/y", split="train")


# ----------------------------------------------------------------------------- issue 13: bad data


def test_read_squad_json_negative_answer_start_is_refused(tmp_path):
    # Context "Berlin is the capital of Germany." : -8 slices to "Germany." -> "Germany" would match.
    path = write(tmp_path / "s.json", json.dumps(squad([qa("q1"), qa("q-neg", "Germany", -8)])))
    with pytest.raises(DataError, match=re.escape(str(path)) + r":\d+: qa 'q-neg': answer_start -8 is negative"):
        read_squad_json(path)


def test_read_squad_json_empty_context_is_refused(tmp_path):
    doc = squad([qa("q1")])
    doc["data"][0]["paragraphs"][0]["context"] = "  "
    path = write(tmp_path / "s.json", json.dumps(doc, indent=1))
    with pytest.raises(DataError, match=re.escape(str(path)) + r":\d+: .*'context' is empty"):
        read_squad_json(path)


def test_read_jsonl_deeply_nested_value_names_the_line(tmp_path):
    deep = '{"question": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write(tmp_path / "d.jsonl", '{"question": "a"}\n' + deep + "\n")
    with pytest.raises(DataError, match=at(path, 2) + " JSON nested too deeply"):
        read_jsonl(path)


def test_read_squad_json_deeply_nested_value_names_the_line(tmp_path):
    path = write(tmp_path / "s.json", '{\n "data": [\n  ' + "[" * 100_000 + "]" * 100_000 + "\n ]\n}")
    with pytest.raises(DataError, match=at(path, 3) + " JSON nested too deeply"):
        read_squad_json(path)


@pytest.mark.parametrize(("value", "what"), [("", "empty"), (" \t", "only whitespace")])
def test_require_nonempty_text(tmp_path, value, what):
    assert require_nonempty_text({"q": " x "}, "q", tmp_path / "f", 3) == " x "
    with pytest.raises(DataError, match=at(tmp_path / "f", 3) + f" field 'q' is {what}"):
        require_nonempty_text({"q": value}, "q", tmp_path / "f", 3)
