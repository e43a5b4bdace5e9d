"""The src / tgt / cs mixture: built from (source, translation) pairs, capped and weighted."""

from __future__ import annotations

import pytest

from selftt.datamodules.components import DataComponent
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.datamodules.mixture import apply_weight, code_switch
from selftt.errors import ConfigError
from selftt.tasks import get_task
from selftt.translation.handoff import TranslatedSet


def _pair(i: int):
    source = {
        "id": f"q{i}",
        "lang": "en",
        "question": f"Tom has {i} apples.",
        "answer": f"{i} + 1 = {i + 1}",
        "final": str(i + 1),
    }
    translated = {
        **source,
        "id": f"q{i}@de",
        "source_id": f"q{i}",
        "lang": "de",
        "question": f"Tom hat {i} Äpfel.",
        "answer": f"{i} + 1 = {i + 1} (de)",
    }
    return source, translated


def test_code_switch_takes_inputs_from_one_language_and_outputs_from_the_other():
    task = get_task("math")
    source, translated = _pair(3)
    tgt_src = code_switch(task, source, translated, "tgt-src")
    assert tgt_src["question"] == "Tom hat 3 Äpfel." and tgt_src["answer"] == "3 + 1 = 4"
    assert (tgt_src["lang"], tgt_src["target_lang"]) == ("de", "en")
    assert task.instruction(tgt_src).endswith("Tom hat 3 Äpfel.")
    assert task.target(tgt_src).endswith("The answer is 4.")
    src_tgt = code_switch(task, source, translated, "src-tgt")
    assert src_tgt["question"] == "Tom has 3 apples." and src_tgt["answer"] == "3 + 1 = 4 (de)"
    assert (src_tgt["lang"], src_tgt["target_lang"]) == ("en", "de")
    assert "Antwort" in task.target(src_tgt)
    assert tgt_src["id"] != src_tgt["id"]


def test_apply_weight_repeats_and_subsamples_deterministically():
    items = [{"id": str(i)} for i in range(10)]
    assert apply_weight(items, 1.0, 0) == items
    assert len(apply_weight(items, 2.0, 0)) == 20
    half = apply_weight(items, 0.5, 0)
    assert len(half) == 5 and half == apply_weight(items, 0.5, 0)
    assert len({d["id"] for d in half}) == 5
    assert len(apply_weight(items, 1.3, 0)) == 13


@pytest.fixture
def mixture_dm(tiny_model, math_file):
    def make(*extra: DataComponent) -> SelfTTDataModule:
        dm = SelfTTDataModule(
            task="math",
            components=[DataComponent(name="src", path=str(math_file), lang="en", limit=10), *extra],
            tokenizer=tiny_model,
            batch_size=4,
            max_length=256,
        )
        dm.setup("fit")
        return dm

    return make


def test_tgt_and_cs_components_are_built_from_translations(mixture_dm):
    dm = mixture_dm(
        DataComponent(name="tgt", lang="de"),
        DataComponent(name="cs", lang="de", direction="tgt-src", limit=3),
        DataComponent(name="cs", lang="de", direction="src-tgt", weight=0.5),
    )
    (request,) = dm.translation_requests()
    examples = request.examples
    assert (request.lang, request.src_lang, len(examples), request.key) == ("de", "en", 10, "data.components[1]")
    with pytest.raises(ConfigError, match="self-translation"):
        dm.train_dataloader()
    pairs = []
    for source in examples[:8]:  # say 2 of 10 were filtered out
        pairs.append(
            (
                source,
                {**source, "id": f"{source['id']}@de", "lang": "de", "question": "Frage " + source["id"]},
            )
        )
    dm.add_translated(TranslatedSet("de", "en", pairs))
    assert dm.component_sizes == {"src": 10, "tgt_de": 8, "cs_de": 3 + 4}
    assert len(dm.train_data) == 25
    assert {item["component"] for item in dm.train_data} == {"src", "tgt", "cs"}
    assert dm.translation_requests() == []
    batch = next(iter(dm.train_dataloader()))
    assert batch["input_ids"].shape[0] == 4


def test_several_target_languages_are_requested_separately(mixture_dm):
    dm = mixture_dm(DataComponent(name="tgt", lang="de"), DataComponent(name="tgt", lang="zh"))
    assert [r.lang for r in dm.translation_requests()] == ["de", "zh"]


def test_a_code_switched_component_that_only_repeats_tgt_is_warned_about(monkeypatch):
    from selftt.datamodules import mixture

    warnings = []
    monkeypatch.setattr(mixture, "rank_zero_warn", warnings.append)
    pairs = [_pair(i) for i in range(3)]
    translated = TranslatedSet("de", "en", pairs)
    cs = [DataComponent(name="cs", lang="de", direction="tgt-src")]
    mixture.translated_components(get_task("math"), cs, translated)
    assert warnings == []  # math's answer is translated: cs differs from tgt

    class LabelOnly(type(get_task("nli"))):
        def target(self, example):  # ignores target_lang: the same label word in any language
            return example["label"]

    nli = LabelOnly()
    nli_pairs = [
        ({"id": f"p{i}", "lang": "en", "premise": "A.", "hypothesis": "B.", "label": "neutral"},
         {"id": f"p{i}@de", "lang": "de", "premise": "A (de).", "hypothesis": "B (de).", "label": "neutral"})
        for i in range(2)
    ]
    mixture.translated_components(nli, cs, TranslatedSet("de", "en", nli_pairs))
    assert len(warnings) == 1 and "data.components[0] (cs, tgt-src): every code-switched example" in warnings[0]
