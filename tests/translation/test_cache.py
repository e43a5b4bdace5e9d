from __future__ import annotations

import json

import pytest

from selftt.errors import DataError
from selftt.translation.cache import TranslationCache, model_identity, source_hash

KEY = {
    "task": "math",
    "src_lang": "en",
    "tgt_lang": "de",
    "fields": ["question", "answer"],
    "model": {"model": "m", "quantization": "none", "dtype": "float32"},
    "prompt": {"template": "{src_name}: {src}\n{tgt_name}: {tgt}", "shots": [["a", "b"]]},
    "decoding": {"max_new_tokens": 512, "do_sample": False},
}


def _record(i: int, text: str = "x") -> dict:
    return {"id": f"e{i}", "src_hash": "h", "lang": "de", "fields": {"question": text}, "reasons": []}


@pytest.mark.parametrize(
    "change",
    [
        {"tgt_lang": "zh"},
        {"task": "qa"},
        {"model": {**KEY["model"], "quantization": "4bit"}},
        {"model": {**KEY["model"], "model": "other"}},
        {"prompt": {**KEY["prompt"], "shots": [["a", "c"]]}},
        {"prompt": {**KEY["prompt"], "template": "{src} = {tgt}"}},
        {"decoding": {**KEY["decoding"], "do_sample": True}},
        {"fields": ["question"]},
    ],
)
def test_the_key_changes_with_every_input_that_matters(tmp_path, change):
    assert TranslationCache(tmp_path, KEY).key != TranslationCache(tmp_path, {**KEY, **change}).key


def test_the_key_is_stable(tmp_path):
    again = json.loads(json.dumps(KEY))
    assert TranslationCache(tmp_path, KEY).dir == TranslationCache(tmp_path, again).dir
    assert TranslationCache(tmp_path, KEY).dir.name.startswith("math-en-de-")


def test_source_hash_follows_the_translatable_text():
    example = {"id": "a", "question": "q", "answer": "a", "final": "1"}
    fields = ("question", "answer")
    assert source_hash(example, fields) == source_hash({**example, "final": "2"}, fields)
    assert source_hash(example, fields) != source_hash({**example, "question": "q2"}, fields)


def test_model_identity_of_a_local_folder_changes_when_weights_change(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights-1")
    first = model_identity(str(tmp_path), None, "none")
    (tmp_path / "model.safetensors").write_bytes(b"weights-2")
    assert model_identity(str(tmp_path), None, "none") != first


def test_records_round_trip_across_writers_first_copy_wins(tmp_path):
    cache = TranslationCache(tmp_path, KEY).open()
    with cache.writer() as writer:
        writer.write([_record(1), _record(2)])
        writer.write([_record(3)])
    with cache.writer() as writer:
        writer.write([_record(1, "later")])
    records = cache.load()
    assert sorted(records) == [("e1", "h"), ("e2", "h"), ("e3", "h")]
    assert records[("e1", "h")]["fields"]["question"] == "x"
    assert len(cache.parts()) == 2
    reopened = TranslationCache(tmp_path, KEY).open()
    assert reopened.load() == records


def test_a_last_line_cut_short_by_a_kill_is_ignored(tmp_path):
    cache = TranslationCache(tmp_path, KEY).open()
    with cache.writer() as writer:
        writer.write([_record(1), _record(2)])
    part = cache.parts()[0]
    with part.open("ab") as f:
        f.write(json.dumps(_record(3)).encode()[:25])  # killed half-way through a line
    assert sorted(id_ for id_, _ in cache.load()) == ["e1", "e2"]
    assert cache.dropped_partial_lines == 1


@pytest.mark.parametrize(
    "bad_line",
    [
        b"{not json",
        b'{"id": "e9"}',
        b'["a list"]',
        b'{"id": "e9", "src_hash": "h", "fields": {"q": 3}}',
        b"\xff\xfe",
    ],
)
def test_a_damaged_complete_line_is_an_error_naming_file_and_line(tmp_path, bad_line):
    cache = TranslationCache(tmp_path, KEY).open()
    with cache.writer() as writer:
        writer.write([_record(1)])
    part = cache.parts()[0]
    with part.open("ab") as f:
        f.write(bad_line + b"\n")
        f.write(json.dumps(_record(2)).encode() + b"\n")
    with pytest.raises(DataError, match=rf"{part.name}:2: the translation cache is damaged"):
        cache.load()


def test_meta_of_another_key_or_corrupt_meta_is_refused(tmp_path):
    cache = TranslationCache(tmp_path, KEY).open()
    cache.meta_path.write_text(json.dumps({"key": "something-else"}))
    with pytest.raises(DataError, match="belongs to cache key"):
        TranslationCache(tmp_path, KEY).open()
    cache.meta_path.write_text("{trunc")
    with pytest.raises(DataError, match="corrupt translation cache metadata"):
        TranslationCache(tmp_path, KEY).open()
