"""Tests for the DataModule: the training mixture, held-out and validation sets, batching, errors."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch import Trainer

from selftt.datamodules.components import DataComponent, EvalSet
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.datamodules.tokenization import IGNORE_INDEX
from selftt.errors import ConfigError, DataError


@pytest.fixture
def make_dm(tiny_model, math_file):
    """Factory of the math DataModule on the 24-example file, with keyword overrides."""

    def make(**overrides) -> SelfTTDataModule:
        kwargs = dict(
            task="math",
            components=[DataComponent(path=str(math_file), lang="en")],
            val_holdout=4,
            tokenizer=tiny_model,
            batch_size=4,
            max_length=256,
        )
        kwargs.update(overrides)
        return SelfTTDataModule(**kwargs)

    return make


@pytest.fixture
def mgsm_file(tmp_path):
    path = tmp_path / "mgsm.tsv"
    rows = [f"Anna hat {a} Äpfel und bekommt {a + 1} dazu. Wie viele hat sie?\t{2 * a + 1}" for a in range(5)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def fake_trainer(world_size=1, accumulate=1, rank=0):
    return SimpleNamespace(world_size=world_size, accumulate_grad_batches=accumulate, global_rank=rank)


def raises_key(key: str, match: str = ""):
    """pytest.raises for a ConfigError whose message names ``key`` (and contains ``match``)."""
    return pytest.raises(ConfigError, match=re.escape(f"config key '{key}'") + ".*" + re.escape(match))


# ----------------------------------------------------------------------------- sets


def test_fit_splits_train_and_heldout(make_dm):
    dm = make_dm()
    dm.setup("fit")
    assert len(dm.train_data) == 20
    assert dm.val_set_names == ["heldout_en"]
    assert [len(v) for v in dm.val_data] == [4]
    train_ids = {item["id"] for item in dm.train_data}
    held_ids = {item["id"] for item in dm.val_data[0]}
    assert len(train_ids) == 20 and len(held_ids) == 4
    assert not train_ids & held_ids
    assert dm.component_sizes == {"src": 20}
    assert all(item["component"] == "src" for item in dm.train_data)
    for item in dm.train_data + dm.val_data[0]:
        assert len(item["input_ids"]) == len(item["labels"]) <= 256
        assert item["labels"][0] == IGNORE_INDEX and item["labels"][-1] == dm.tokenizer.eos_token_id


def test_setup_twice_gives_same_sizes(make_dm):
    dm = make_dm()
    dm.setup("fit")
    dm.setup("fit")
    assert len(dm.train_data) == 20 and dm.component_sizes == {"src": 20}
    assert dm.val_set_names == ["heldout_en"]


def test_validate_stage_keeps_the_heldout_set(make_dm, mgsm_file):
    dm = make_dm(val_sets=[EvalSet(path=str(mgsm_file), lang="de")])
    dm.setup("fit")
    fit_ids = [[item["id"] for item in v] for v in dm.val_data]
    dm.setup("validate")
    assert dm.val_set_names == ["heldout_en", "mgsm_de"]
    assert [[item["id"] for item in v] for v in dm.val_data] == fit_ids


def test_limit_applies_after_the_holdout(make_dm, math_file):
    dm = make_dm(components=[DataComponent(path=str(math_file), lang="en", limit=7)])
    dm.setup("fit")
    assert len(dm.train_data) == 7 and dm.component_sizes == {"src": 7}
    assert len(dm.val_data[0]) == 4  # the limit does not shrink the held-out set
    # The held-out examples are the file's last 4, the training ones its first 7.
    whole = make_dm(val_holdout=0)
    whole.setup("fit")
    all_ids = [item["id"] for item in whole.train_data]
    assert [item["id"] for item in dm.train_data] == all_ids[:7]
    assert [item["id"] for item in dm.val_data[0]] == all_ids[-4:]
    assert whole.val_set_names == [] and whole.val_data == []


def test_val_set_default_name_and_explicit_name(make_dm, mgsm_file):
    dm = make_dm(
        val_sets=[
            EvalSet(path=str(mgsm_file), lang="de"),
            EvalSet(path=str(mgsm_file), lang="de", name="mgsm de/2", limit=2),
        ]
    )
    dm.setup("fit")
    assert dm.val_set_names == ["heldout_en", "mgsm_de", "mgsm_de_2"]
    assert [len(v) for v in dm.val_data] == [4, 5, 2]


def test_duplicate_val_set_names_rejected(make_dm, mgsm_file):
    dm = make_dm(val_sets=[EvalSet(path=str(mgsm_file), lang="de")] * 2)
    with raises_key("data.val_sets[1]"):
        dm.setup("fit")


def test_hparams_hold_plain_types(make_dm, math_file):
    dm = make_dm()
    assert dm.hparams["components"] == [
        {
            "name": "src",
            "path": str(math_file),
            "lang": "en",
            "split": None,
            "limit": None,
            "weight": 1.0,
            "direction": "tgt-src",
        }
    ]
    assert dm.hparams["val_sets"] == []


# ----------------------------------------------------------------------------- batching


def test_per_device_batch_size(make_dm):
    dm = make_dm(batch_size=8)
    assert dm.per_device_batch_size() == 8  # no trainer: one device, no accumulation
    dm.trainer = fake_trainer(world_size=2, accumulate=2)
    assert dm.per_device_batch_size() == 2
    dm.trainer = Trainer(accelerator="cpu", devices=1, accumulate_grad_batches=2, logger=False)
    assert dm.per_device_batch_size() == 4


def test_batch_size_not_divisible_names_key(make_dm):
    dm = make_dm(batch_size=6)
    dm.trainer = fake_trainer(world_size=2, accumulate=2)
    with raises_key("data.batch_size") as info:
        dm.per_device_batch_size()
    assert info.value.key == "data.batch_size" and "2 x 2" in str(info.value)


def test_train_batches(make_dm):
    dm = make_dm()
    dm.setup("fit")
    loader = dm.train_dataloader()
    batches = list(loader)
    assert len(batches) == 5
    for batch in batches:
        assert set(batch) == {"input_ids", "attention_mask", "labels"}
        shapes = {t.shape for t in batch.values()}
        assert len(shapes) == 1 and batch["input_ids"].shape[0] == 4
        assert torch.all(batch["labels"][batch["attention_mask"] == 0] == IGNORE_INDEX)
        assert torch.all(batch["input_ids"][batch["attention_mask"] == 0] == dm.tokenizer.pad_token_id)
    assert loader.state_dict() == {"epoch": 0, "batches_done": 0}
    val = dm.val_dataloader()
    assert len(val) == 1 and [b["input_ids"].shape[0] for b in val[0]] == [4]


def test_train_loader_splits_global_batches_over_ranks(make_dm):
    dm = make_dm(batch_size=8)
    dm.setup("fit")
    lengths = {}
    for rank in range(2):
        dm.trainer = fake_trainer(world_size=2, accumulate=2, rank=rank)
        loader = dm.train_dataloader()
        assert loader.batch_size == 2
        assert loader.sampler.num_replicas == 2 and loader.sampler.rank == rank
        lengths[rank] = [len(dm.train_data[i]["input_ids"]) for i in loader.sampler]
    assert len(lengths[0]) == len(lengths[1]) == 10


# ----------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("component", "key"),
    [
        (dict(name="mixed"), "data.components[0].name"),
        (dict(name="tgt"), "data.components[0].name"),
        (dict(name="cs"), "data.components[0].name"),
        (dict(path=""), "data.components[0].path"),
        (dict(limit=0), "data.components[0].limit"),
    ],
)
def test_component_config_errors_name_their_key(make_dm, math_file, component, key):
    fields = dict(path=str(math_file), lang="en") | component
    with raises_key(key):
        make_dm(components=[DataComponent(**fields)])


@pytest.mark.parametrize(
    ("component", "key", "message"),
    [
        (dict(name="tgt", lang="de", path="x.jsonl"), "data.components[1].path", "leave 'path' empty"),
        (dict(name="tgt", lang="en"), "data.components[1].lang", "source language"),
        (dict(name="cs", lang="de", direction="de-en"), "data.components[1].direction", "tgt-src"),
        (dict(name="tgt", lang="de", weight=0), "data.components[1].weight", "> 0"),
    ],
)
def test_translated_component_config_errors(make_dm, math_file, component, key, message):
    src = DataComponent(name="src", path=str(math_file), lang="en")
    with raises_key(key, match=message):
        make_dm(components=[src, DataComponent(**component)])


def test_tgt_component_without_src_says_it_needs_one(make_dm):
    with raises_key("data.components[0].name", match="needs a 'src' component"):
        make_dm(components=[DataComponent(name="tgt", lang="de")])


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (dict(task="poetry"), "data.task"),
        (dict(task_options={"nope": 1}), "data.task_options"),
        (dict(max_length=0), "data.max_length"),
        (dict(batch_size=0), "data.batch_size"),
        (dict(val_holdout=-1), "data.val_holdout"),
        (dict(tokenizer=None), "data.tokenizer"),
        (dict(val_sets=[EvalSet(path="")]), "data.val_sets[0].path"),
    ],
)
def test_init_config_errors_name_their_key(make_dm, overrides, key):
    with raises_key(key):
        make_dm(**overrides)


@pytest.mark.parametrize("holdout", [24, 30])
def test_holdout_too_large(make_dm, holdout):
    dm = make_dm(val_holdout=holdout)
    with raises_key("data.val_holdout"):
        dm.setup("fit")


def test_max_length_drops_everything(make_dm):
    dm = make_dm(max_length=5)
    with raises_key("data.max_length"):
        dm.setup("fit")


def test_a_bad_language_code_fails_at_construction(make_dm, math_file, mgsm_file):
    with raises_key("data.components[0].lang", match="'xx' is not a known language code"):
        make_dm(components=[DataComponent(path=str(math_file), lang="xx")])
    with raises_key("data.val_sets[0].lang"):
        make_dm(val_sets=[EvalSet(path=str(mgsm_file), lang="english")])
    with raises_key("data.test_sets[0].lang"):
        make_dm(test_sets=[EvalSet(path=str(mgsm_file), lang="")])


def test_any_language_code_is_accepted_and_put_in_canonical_form(make_dm, math_file, mgsm_file, caplog):
    dm = make_dm(
        components=[DataComponent(path=str(math_file), lang="en"), DataComponent(name="tgt", lang="SW")],
        val_sets=[EvalSet(path=str(mgsm_file), lang="pt-br")],
    )
    assert [c.lang for c in dm.components] == ["en", "sw"]
    assert dm.val_sets[0].lang == "pt-BR"
    assert "no instruction for language 'sw'" in caplog.text  # English instructions, with a warning


def test_no_components_at_fit(make_dm, mgsm_file):
    dm = make_dm(components=[], val_holdout=0, val_sets=[EvalSet(path=str(mgsm_file), lang="de")])
    with raises_key("data.components"):
        dm.setup("fit")
    dm.setup("validate")  # validating needs no training data
    assert dm.val_set_names == ["mgsm_de"]


# ----------------------------------------------------------------------------- data errors


def test_malformed_jsonl_names_file_and_line(make_dm, math_file):
    with math_file.open("a", encoding="utf-8") as f:
        f.write('{"question": "broken\n')
    dm = make_dm()
    with pytest.raises(DataError, match=re.escape(f"{math_file}:25")) as info:
        dm.setup("fit")
    assert info.value.line == 25 and str(math_file) in str(info.value)


def test_missing_component_file(make_dm, tmp_path):
    missing = tmp_path / "nope.jsonl"
    dm = make_dm(components=[DataComponent(path=str(missing), lang="en")])
    with pytest.raises(DataError, match=re.escape(str(missing))):
        dm.setup("fit")


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -1.0, 0.0])
def test_a_component_weight_must_be_a_finite_positive_number(weight):
    """NaN and inf slipped through a '<= 0' check and crashed in the mixture after translating."""
    from selftt.datamodules.components import check_components

    components = [DataComponent(name="src", path="x.jsonl", lang="en"), DataComponent(name="tgt", lang="de", weight=weight)]
    with raises_key("data.components[1].weight", "must be a finite number > 0"):
        check_components(components)


def test_a_tokenizer_object_is_used_as_it_is(make_dm, tiny_model):
    """In Python, data.tokenizer may be the tokenizer itself; hparams keep its name."""
    from selftt.modules.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny_model)
    dm = make_dm(tokenizer=tokenizer)
    dm.setup("fit")
    assert dm.tokenizer is tokenizer
    assert dm.hparams["tokenizer"] == tokenizer.name_or_path


def test_an_eval_sets_too_long_examples_leave_its_loss_only(make_dm, tmp_path, caplog):
    path = tmp_path / "long.tsv"
    rows = [f"Anna hat {a} Äpfel.{' Wirklich.' * (300 if a == 0 else 0)} Wie viele?\t{a}" for a in range(4)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dm = make_dm(val_sets=[EvalSet(path=str(path), lang="de")])
    with caplog.at_level("WARNING"):
        dm.setup("fit")
    assert "long_de: dropped 1 of 4 examples longer than data.max_length=256 from its loss only" in caplog.text
    assert len(dm.val_sets_loaded[0].examples) == 4  # what generation scores
