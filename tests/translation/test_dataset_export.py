"""``python -m selftt translate --export DIR``: the kept translations as a Hugging Face data set."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from datasets import load_dataset


def _translate_extra(tmp_path: Path, math_file: Path, filters: dict) -> dict:
    return {
        "data": {
            "components": [
                {"name": "src", "path": str(math_file), "lang": "en"},
                {"name": "tgt", "lang": "de"},
                {"name": "tgt", "lang": "ru"},
            ]
        },
        "translation": {
            "cache_dir": str(tmp_path / "cache"),
            "prompt": {"n_shots": 2},
            "generation": {"max_new_tokens": 8},
            "max_new_tokens_ratio": 1.0,
            "filters": filters,
        },
    }


def _kept_records(cache: Path, lang: str) -> list[dict]:
    dataset = next(cache.glob(f"math-en-{lang}-*/dataset.jsonl"))
    rows = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["kept"]]


def test_translate_export_writes_a_dataset_that_datasets_loads(
    tmp_path, math_file, write_config, run_selftt, no_filters
):
    config = write_config(extra=_translate_extra(tmp_path, math_file, {**no_filters, "numbers": False}))
    out = tmp_path / "translated"
    done = run_selftt(
        ["translate", "--config", str(config), "--export", str(out), "--export_license", "cc-by-sa-4.0"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"translated data set written to {out}" in done.stdout

    for lang in ("de", "ru"):
        kept = _kept_records(tmp_path / "cache", lang)
        train = load_dataset(str(out), lang, split="train", cache_dir=str(tmp_path / "hf"))  # not ~/.cache: see README
        assert len(train) == len(kept) > 0
        assert train["id"] == [r["id"] for r in kept]
        assert train["question"] == [r["translation"]["question"] for r in kept]
        assert train["answer"] == [r["translation"]["answer"] for r in kept]
        assert set(train["lang"]) == {lang} and set(train["src_lang"]) == {"en"}
        assert train[0]["source"]["question"].startswith(("Tom", "Anna", "Lena", "Ivan", "Mia", "Omar"))

    card = (out / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(card.split("---")[1])
    assert header["license"] == "cc-by-sa-4.0" and set(header["language"]) == {"en", "de", "ru"}
    assert [c["config_name"] for c in header["configs"]] == ["de", "ru"]
    assert "| de (German) | 20 | 20 | none |" in card and "| ru (Russian) | 20 | 20 | none |" in card
    for words in ("tiny-llama", "sha256", '"n_shots": 2', '"max_new_tokens": 8', '"numbers": false', "cc-by-sa-4.0",
                  f"**source data**: `{math_file}` (en)", "**engine**: hf", "**made with**: selftt "):
        assert words in card, words


def test_translate_export_refuses_before_translating(tmp_path, math_file, write_config, run_selftt, no_filters):
    config = write_config(extra=_translate_extra(tmp_path, math_file, no_filters))
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.parquet").write_text("not selftt's", encoding="utf-8")
    for extra, key in (
        (["--export", str(taken)], "export"),
        (["--push_to_hub", "me/data"], "push_to_hub"),
    ):
        done = run_selftt(["translate", "--config", str(config), *extra], tmp_path)
        assert done.returncode == 2, done.stderr[-2000:]
        lines = [line for line in done.stderr.splitlines() if line.startswith("selftt: error")]
        assert len(lines) == 1 and f"'{key}'" in lines[0], done.stderr[-2000:]
    assert (taken / "mine.parquet").read_text(encoding="utf-8") == "not selftt's"
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.jsonl"))


def test_card_counts_rejections_and_a_language_with_nothing_kept_gets_no_config(tmp_path):
    from selftt.tasks import get_task
    from selftt.translation.dataset_export import export_translated_dataset
    from selftt.translation.filter_settings import FilterSettings
    from selftt.translation.handoff import TranslatedSet
    from selftt.translation.translator import TranslationOutcome

    source = {"id": "q1", "lang": "en", "question": "Tom has 2 apples.", "answer": "2"}
    translated = {**source, "lang": "de", "question": "Tom hat 2 Äpfel."}

    def outcome(lang, pairs, counts):
        return TranslationOutcome(lang, TranslatedSet(lang, "en", pairs), [], counts, 0, 0, tmp_path / lang)

    outcomes = [
        outcome("de", [(source, translated)], {"kept": 1, "total": 3, "length_ratio": 2, "script": 0}),
        outcome("th", [], {"kept": 0, "total": 3, "script": 3}),
    ]
    out = export_translated_dataset(outcomes, get_task("math"), FilterSettings(), tmp_path / "out")
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| de (German) | 1 | 3 | length_ratio 2 |" in card
    assert "| th (Thai) (nothing kept: no data file) | 0 | 3 | script 3 |" in card
    assert "licence of the source data**: unknown" in card
    assert [c["config_name"] for c in yaml.safe_load(card.split("---")[1])["configs"]] == ["de"]
    assert not (out / "th").exists()
    row = load_dataset(str(out), "de", split="train", cache_dir=str(tmp_path / "hf"))[0]
    assert row["question"] == "Tom hat 2 Äpfel." and row["source"]["question"] == "Tom has 2 apples."


def test_translate_export_says_so_when_the_filters_kept_nothing(tmp_path, math_file, write_config, run_selftt, no_filters):
    config = write_config(extra=_translate_extra(tmp_path, math_file, {**no_filters, "truncated": True}))
    out = tmp_path / "translated"
    done = run_selftt(["translate", "--config", str(config), "--export", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "kept rows: de 0, ru 0" in done.stdout  # 8 new tokens cut every translation of the tiny model
    assert "the filters kept no translation" in done.stderr and "load_dataset" not in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
