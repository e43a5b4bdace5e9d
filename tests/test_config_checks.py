"""Unit tests of the output-folder check every config folder passes before anything is written."""

from __future__ import annotations

import os

import pytest

from selftt import config_checks
from selftt.config_checks import check_output_folder
from selftt.errors import ConfigError


def test_existing_or_creatable_folders_pass(tmp_path):
    check_output_folder("k", tmp_path)
    check_output_folder("k", tmp_path / "new" / "deeper")
    check_output_folder("k", None)
    check_output_folder("k", "s3://bucket/logs")  # remote: not checked here
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_file_or_a_folder_under_a_file_is_refused(tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config key 'trainer.default_root_dir': '.*f.txt' is a file, not a folder"):
        check_output_folder("trainer.default_root_dir", file)
    with pytest.raises(ConfigError, match=r"cannot be created: '.*f.txt' is a file"):
        check_output_folder("translation.cache_dir", file / "sub")


def test_a_folder_without_write_permission_is_refused(tmp_path, monkeypatch):
    """The branch a non-root user meets (root may write anywhere, so os.access is stood in for)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        config_checks.os, "access", lambda path, mode: False if str(path) == str(locked) else real_access(path, mode)
    )
    with pytest.raises(ConfigError, match=r"config key 'checkpoint.dirpath': folder '.*locked/ckpt/a' cannot be "
                       r"created: no permission to write in '.*locked'"):
        check_output_folder("checkpoint.dirpath", locked / "ckpt" / "a")
    check_output_folder("checkpoint.dirpath", tmp_path / "open")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused_for_a_normal_user(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="no permission to write in"):
        check_output_folder("k", locked / "x")


def _nested(key: str, value):
    """{'a': {'b': value}} for 'a.b'."""
    config: dict = {}
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return config


def _built(key: str, value):
    from selftt.datamodules.datamodule import SelfTTDataModule
    from selftt.evaluation.callback import GenerationEvaluation
    from selftt.modules.engines.settings import EngineSettings
    from selftt.modules.generation import GenerationSettings
    from selftt.modules.lora import LoraSettings
    from selftt.training.rank_watchdog import RankWatchdog
    from selftt.training.throughput import TrainingThroughput
    from selftt.translation.callback import SelfTranslateCallback

    builders = {
        "data.num_workers": lambda v: SelfTTDataModule(tokenizer="t", num_workers=v),
        "evaluation.max_examples": lambda v: GenerationEvaluation(max_examples=v),
        "translation.chunk_size": lambda v: SelfTranslateCallback(chunk_size=v),
        "translation.drop_failed_pieces": lambda v: SelfTranslateCallback(drop_failed_pieces=v),
        "model.lora.r": lambda v: LoraSettings(r=v).validate("model.lora"),
        "model.generation.top_p": lambda v: GenerationSettings(top_p=v).validate("model.generation"),
        "translation.engine.gpu_memory_utilization": lambda v: EngineSettings(
            gpu_memory_utilization=v
        ).validate("translation.engine"),
        "watchdog.timeout": lambda v: RankWatchdog(timeout=v),
        "throughput.peak_tflops": lambda v: TrainingThroughput(peak_tflops=v),
    }
    builders[key](value)


@pytest.mark.parametrize(
    "key, value",
    [
        ("data.num_workers", -1),
        ("evaluation.max_examples", 0),
        ("translation.chunk_size", 0),
        ("translation.drop_failed_pieces", 1.0),
        ("model.lora.r", 0),
        ("model.generation.top_p", 0.0),
        ("translation.engine.gpu_memory_utilization", 1.5),
        ("watchdog.timeout", 0),
        ("throughput.peak_tflops", float("nan")),
    ],
)
def test_a_constructor_refuses_what_the_config_check_refuses_in_the_same_words(key, value):
    """One table of ranges: building in Python and parsing a config agree (no twin checks drifting)."""
    with pytest.raises(ConfigError) as parsed:
        config_checks.check_numbers(_nested(key, value))
    with pytest.raises(ConfigError) as built:
        _built(key, value)
    assert str(built.value) == str(parsed.value)
    assert parsed.value.key == key


def test_values_inside_the_range_and_keys_without_one_pass():
    config_checks.check_range("translation.drop_failed_pieces", 0.5)
    config_checks.check_range("data.val_sets[3].fewshot", 0)
    config_checks.check_range("some.unknown_key", -5)
    config_checks.check_range("evaluation.max_examples", None)
    with pytest.raises(ConfigError, match=r"'data\.val_sets\[3\]\.fewshot': must be >= 0, got -1"):
        config_checks.check_range("data.val_sets[3].fewshot", -1)
