"""SelfTranslator on the tiny model: cache reuse, exactly-once translation, filtering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftt.modules import LoraSettings, SelfTTModule
from selftt.modules.generation import GenerationSettings
from selftt.tasks import get_task
from selftt.translation.filters import FilterSettings
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.translator import SelfTranslator, TranslatingModel, TranslationSettings
from selftt.utils.distributed import Distributed

NO_FILTERS = FilterSettings(
    empty=False, untranslated=False, length_ratio=False, repetition=False, script=False, numbers=False,
    truncated=False, empty_line=False, lost_question=False, scaffolding=False, language_id=False,
    duplicates=False,
)


@pytest.fixture(scope="module")
def module(request):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "assets" / "tiny-llama"
    m = SelfTTModule(str(path), quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
    m.configure_model()
    return TranslatingModel.of_module(m)


@pytest.fixture
def examples(math_file):
    return get_task("math").load(str(math_file), "en")[:6]


def _translator(tmp_path, filters=NO_FILTERS, chunk_size=2):
    return SelfTranslator(
        get_task("math"),
        TranslationSettings(
            prompt=TranslationPrompt(n_shots=2),
            generation=GenerationSettings(max_new_tokens=6),
            max_new_tokens_ratio=1.0,
            max_new_tokens_extra=2,
            filters=filters,
            cache_dir=tmp_path / "cache",
            chunk_size=chunk_size,
            retries=0,  # the tiny model's pieces fail every check; retries are tested in test_pieces.py
        ),
    )


def _cached_ids(outcome) -> list[str]:
    ids = []
    for part in sorted(outcome.cache_dir.glob("part-*.jsonl")):
        ids += [json.loads(line)["id"] for line in part.read_text(encoding="utf-8").splitlines()]
    return ids


def test_translates_each_example_once_and_reuses_the_cache(tmp_path, module, examples):
    translator = _translator(tmp_path)
    first = translator.run(module, examples, "en", "de", Distributed())
    assert (first.translated_now, first.cached) == (6, 0)
    assert sorted(_cached_ids(first)) == sorted(e["id"] for e in examples)
    assert len(first.pairs) == 6 and first.counts == {"kept": 6, "total": 6} | {
        k: v for k, v in first.counts.items() if k not in ("kept", "total")
    }
    source, translated = first.pairs[0]
    assert translated["lang"] == "de" and translated["source_id"] == source["id"]
    assert translated["final"] == source["final"], "numeric answers are not translated"
    assert translated["answer"].count("\n") == source["answer"].count("\n"), "line structure is kept"

    again = translator.run(module, examples, "en", "de", Distributed())
    assert (again.translated_now, again.cached) == (0, 6)
    assert [t for _, t in again.pairs] == [t for _, t in first.pairs]
    assert len(_cached_ids(again)) == 6


def test_batching_settings_do_not_change_the_cache_key(module):
    """Batch sizes and the shared-prefix cache change speed, not translations: same cache folder."""
    from dataclasses import replace

    base = _translator(Path("/unused"))
    other = _translator(Path("/unused"))
    other.generation = replace(base.generation, max_batch_tokens=123, max_batch_size=3, prefix_cache=False)
    shots = [("One.", "Eins."), ("Two.", "Zwei.")]
    assert base.key_inputs(module, shots, "en", "de") == other.key_inputs(module, shots, "en", "de")
    changed = _translator(Path("/unused"))
    changed.generation = replace(base.generation, max_new_tokens=7)
    assert changed.key_inputs(module, shots, "en", "de") != base.key_inputs(module, shots, "en", "de")


def test_retries_are_part_of_the_cache_key(module):
    """Each retry count translates differently; one retry keeps the key it had before the shot
    rotation of later retries changed (caches written with ``retries: 1`` stay valid)."""
    from dataclasses import replace

    shots = [("One.", "Eins."), ("Two.", "Zwei.")]
    keys = {}
    for retries in (0, 1, 2, 3):
        translator = _translator(Path("/unused"))
        translator.pieces = replace(translator.pieces, retries=retries, segment="sentence")
        keys[retries] = translator.key_inputs(module, shots, "en", "de")["decoding"]
    assert len({str(k) for k in keys.values()}) == 4
    assert "shot_rotation" not in keys[1] and keys[1]["retries"] == 1
    assert keys[2]["shot_rotation"] == keys[3]["shot_rotation"]


def test_an_edited_source_example_is_translated_again(tmp_path, module, examples):
    translator = _translator(tmp_path)
    translator.run(module, examples, "en", "de", Distributed())
    edited = [*examples[:-1], {**examples[-1], "question": examples[-1]["question"] + " Really?"}]
    outcome = translator.run(module, edited, "en", "de", Distributed())
    assert outcome.translated_now == 1


def test_translations_are_those_of_the_base_model_not_the_adapter(tmp_path, module, examples):
    import torch

    translator = _translator(tmp_path / "a")
    before = translator.run(module, examples[:2], "en", "de", Distributed())
    with torch.no_grad():
        for name, p in module.model.named_parameters():
            if "lora_B" in name:
                p.add_(1.0)  # a trained adapter would change every output
    after = _translator(tmp_path / "b").run(module, examples[:2], "en", "de", Distributed())
    with torch.no_grad():
        for name, p in module.model.named_parameters():
            if "lora_B" in name:
                p.sub_(1.0)
    assert [t for _, t in before.pairs] == [t for _, t in after.pairs]


def test_filters_decide_what_is_kept_and_are_counted(tmp_path, module, examples):
    outcome = _translator(tmp_path, filters=FilterSettings()).run(module, examples, "en", "de", Distributed())
    assert outcome.counts["total"] == 6
    assert outcome.counts["kept"] == len(outcome.pairs)
    rejected = [r for r in outcome.records if not r["kept"]]
    assert all(r["reasons"] for r in rejected)
    assert sum(n for k, n in outcome.counts.items() if k not in ("kept", "total")) >= len(rejected)


def test_only_the_chosen_fields_are_translated(tmp_path, module, examples):
    translator = _translator(tmp_path)
    translator.fields = ("question",)
    outcome = translator.run(module, examples[:2], "en", "de", Distributed())
    source, translated = outcome.pairs[0]
    assert translated["answer"] == source["answer"]
    assert set(outcome.records[0]["translation"]) == {"question"}


def test_a_text_shared_by_several_examples_is_translated_once(tmp_path, module, monkeypatch):
    from selftt.modules.generation import BatchedGenerator

    seen: list[str] = []
    original = BatchedGenerator.generate_detailed

    def counting(self, prompts, **kwargs):
        seen.extend(prompts)
        return original(self, prompts, **kwargs)

    monkeypatch.setattr(BatchedGenerator, "generate_detailed", counting)
    out = _translator(tmp_path).translate_texts(
        module,
        ["Same context.", "Same context.\nOther line."],
        "en",
        "de",
        [("Hello.", "Hallo."), ("Yes.", "Ja.")],
    )
    assert len(seen) == 2
    assert out[0] == out[1].split("\n")[0]


def test_each_translation_is_filtered_once_new_or_cached(tmp_path, module, examples, monkeypatch):
    """One filter verdict per translation and run: none while translating, one in the outcome."""
    import selftt.translation.translator as translator_module

    calls: list[str] = []
    original = translator_module.filter_example

    def counting(task, source, *args, **kwargs):
        calls.append(source["id"])
        return original(task, source, *args, **kwargs)

    monkeypatch.setattr(translator_module, "filter_example", counting)
    translator = _translator(tmp_path, filters=FilterSettings())
    first = translator.run(module, examples, "en", "de", Distributed())
    assert sorted(calls) == sorted(e["id"] for e in examples) and first.translated_now == 6
    calls.clear()
    again = translator.run(module, examples, "en", "de", Distributed())
    assert sorted(calls) == sorted(e["id"] for e in examples) and again.cached == 6
    assert again.records == first.records


def test_cache_records_hold_no_stale_verdicts(tmp_path, module, examples):
    """Verdicts are the outcome's; the cache keeps the text and finish reasons only."""
    outcome = _translator(tmp_path).run(module, examples[:2], "en", "de", Distributed())
    for part in outcome.cache_dir.glob("part-*.jsonl"):
        for line in part.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == {"id", "src_hash", "lang", "fields", "finish"}


def test_a_cache_written_with_verdicts_is_read_and_filtered_again(tmp_path, module, examples):
    """Records of older runs carry their own 'reasons': they are ignored, today's filters decide."""
    translator = _translator(tmp_path)
    first = translator.run(module, examples[:2], "en", "de", Distributed())
    for part in first.cache_dir.glob("part-*.jsonl"):
        rows = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
        part.write_text("".join(json.dumps({**r, "reasons": ["stale"]}) + "\n" for r in rows), encoding="utf-8")
    again = translator.run(module, examples[:2], "en", "de", Distributed())
    assert again.cached == 2 and again.records == first.records


def test_the_translating_model_of_a_module_keeps_the_cache_key(module):
    """TranslatingModel.of_module keys the cache as the module did: (model_path, model, quantization)."""
    from selftt.translation.cache import model_identity

    shots = [("One.", "Eins."), ("Two.", "Zwei.")]
    key = _translator(Path("/unused")).key_inputs(module, shots, "en", "de")
    assert key["model"] == model_identity(module.name_or_path, module.model, "none")
    assert module.name_or_path == str(Path(__file__).resolve().parents[1] / "assets" / "tiny-llama")
    assert module.quantization == "none"


def test_an_external_translator_is_a_typed_translating_model(tmp_path, tiny_model, examples):
    """translation.translator_model: loaded apart from the trained module, keyed by its own path."""
    from selftt.translation.callback import SelfTranslateCallback

    trained = SelfTTModule(tiny_model, quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
    callback = SelfTranslateCallback(translator_model=tiny_model)
    external = callback.translating_model(trained)
    assert isinstance(external, TranslatingModel)
    assert (external.name_or_path, external.quantization) == (tiny_model, "none")
    assert trained.model is None, "the trained model is not loaded to translate with another"
    assert not hasattr(external.model, "disable_adapter"), "no adapter on the external model"
    outcome = _translator(tmp_path).run(external, examples[:2], "en", "de", Distributed())
    assert outcome.translated_now == 2
    meta = json.loads((outcome.cache_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["model"]["model"] == tiny_model
