"""Self-translation as users run it: fit with src+tgt+cs, translate, kill and resume, DDP, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _stt_extra(tmp_path: Path, **translation) -> dict:
    return {
        "data": {
            "components": [
                {"name": "src", "path": str(tmp_path / "math_train.jsonl"), "lang": "en"},
                {"name": "tgt", "lang": "de"},
                {"name": "cs", "lang": "de", "direction": "tgt-src"},
            ]
        },
        "translation": {
            "cache_dir": str(tmp_path / "cache"),
            "prompt": {"n_shots": 2},
            "generation": {"max_new_tokens": 8},
            "max_new_tokens_ratio": 1.0,
            "chunk_size": 4,
            **translation,
        },
    }


@pytest.mark.slow
def test_fit_translates_filters_mixes_and_trains(tmp_path, math_file, write_config, run_selftt, no_filters):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    en = tmp_path / "mgsm_en.tsv"
    en.write_text("".join(f"Question {i}: how many?\t{i}\n" for i in range(5)), encoding="utf-8")
    de = tmp_path / "mgsm_de.tsv"
    de.write_text("".join(f"Frage {i}: wie viele?\t{i}\n" for i in range(5)), encoding="utf-8")
    quality = [{"source": str(en), "reference": str(de), "lang": "de", "limit": 5}]
    config = write_config(extra=_stt_extra(tmp_path, filters=no_filters, quality=quality))
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training mixture for task 'math': src=20, tgt_de=20, cs_de=20 (60 examples)" in result.stderr
    assert "kept 20 of 20 translations (20 translated now, 0 from the cache)" in result.stderr

    events = EventAccumulator(str(tmp_path / "logs" / "run" / "version_0")).Reload()
    scalars = set(events.Tags()["scalars"])
    for tag in (
        "data/size/src",
        "data/size/tgt_de",
        "data/size/cs_de",
        "translation/de/kept",
        "translation/de/filtered/script",
        "translation/de/bleu",
        "translation/de/chrf",
        "train/loss",
    ):
        assert tag in scalars, tag
    assert events.Scalars("data/size/tgt_de")[0].value == 20
    assert "translation/de/samples/text_summary" in events.Tags()["tensors"]
    dataset = next((tmp_path / "cache").glob("*/dataset.jsonl"))
    rows = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 20 and all(set(r["translation"]) == {"question", "answer"} for r in rows)

    again = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "(0 translated now, 20 from the cache)" in again.stderr


@pytest.mark.slow
def test_translation_killed_mid_way_resumes_without_losing_or_redoing_work(
    tmp_path, write_config, write_math, run_selftt, cache_ids
):
    write_math(tmp_path / "math_train.jsonl", n=48)
    extra = _stt_extra(tmp_path, chunk_size=2, generation={"max_new_tokens": 48}, max_new_tokens_ratio=4.0)
    config = write_config(extra=extra)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "selftt", "translate", "--config", str(config)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 240
    while len(cache_ids(tmp_path / "cache")) < 6 and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(cache_ids(tmp_path / "cache"))
    assert 6 <= done_before < 44, "the kill must land while translating"  # 44 = 48 - 4 held out

    resumed = run_selftt(["translate", "--config", str(config)], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"({44 - done_before} translated now, {done_before} from the cache)" in resumed.stderr
    ids = cache_ids(tmp_path / "cache")
    assert len(ids) == len(set(ids)) == 44, "every example exactly once"


@pytest.mark.slow
def test_translate_writes_the_data_set_and_trains_nothing(tmp_path, write_config, run_selftt):
    config = write_config(extra=_stt_extra(tmp_path, retries=0), enable_model_summary=True)
    result = run_selftt(["translate", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert next((tmp_path / "cache").glob("*/dataset.jsonl")).is_file()
    output = result.stdout + result.stderr
    assert "Trainable params" not in output  # no model summary: nothing is trained
    assert "max_steps=0" not in output and "Epoch 0" not in output  # nor Lightning's stop line or epoch bar
    assert "self-translating en->de" in output  # the translator's own bar
    assert not list(tmp_path.rglob("*.ckpt")) and not list(tmp_path.rglob("adapter_model.safetensors"))


def test_two_process_translation_translates_each_example_exactly_once(
    tmp_path, write_config, run_selftt, cache_ids
):
    config = write_config(extra=_stt_extra(tmp_path), strategy="ddp", devices=2)
    result = run_selftt(["translate", "--config", str(config)], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ids = cache_ids(tmp_path / "cache")
    assert len(ids) == len(set(ids)) == 20
    assert len(list((tmp_path / "cache").glob("*/part-*.jsonl"))) == 1, "rank 0 alone writes"


def _bad_language(extra: dict) -> None:
    extra["data"]["components"][1]["lang"] = "xx-notalang"


def _no_shots_for_language(extra: dict) -> None:
    extra["data"]["components"][1]["lang"] = "sw"  # valid, but the packaged shots lack en -> sw


def _too_many_shots(extra: dict) -> None:
    extra["translation"]["prompt"]["n_shots"] = 40


def _bad_filter(extra: dict) -> None:
    extra["translation"]["filters"] = {"min_script_fraction": 2.0}


def _unknown_field(extra: dict) -> None:
    extra["translation"]["fields"] = ["question", "solution"]


def _untranslatable_field(extra: dict) -> None:
    extra["translation"]["fields"] = ["final"]


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (_bad_language, "'data.components[1].lang'"),
        (_no_shots_for_language, "'translation.shots_file': no packaged translation shots for en->sw"),
        (_too_many_shots, "'translation.prompt.n_shots'"),
        (_bad_filter, "'translation.filters.min_script_fraction'"),
        (_unknown_field, "'translation.fields[1]': task 'math' has no field 'solution'"),
        (_untranslatable_field, "'translation.fields[0]': 'final' is not translatable"),
    ],
)
def test_bad_translation_settings_fail_before_any_work(
    tmp_path, math_file, write_config, run_selftt, spoil, expected
):
    extra = _stt_extra(tmp_path)
    spoil(extra)
    result = run_selftt(["translate", "--config", str(write_config(extra=extra))], cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "cache").glob("*/part-*.jsonl"))


def test_a_shots_file_without_the_target_language_is_named(tmp_path, math_file, write_config, run_selftt):
    shots = tmp_path / "shots.json"
    shots.write_text(json.dumps({"ru": [{"en": "Hello.", "ru": "Привет."}]}), encoding="utf-8")
    config = write_config(extra=_stt_extra(tmp_path, shots_file=str(shots)))
    result = run_selftt(["translate", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 2
    assert str(shots) in result.stderr and "'de'" in result.stderr


def test_a_damaged_cache_is_an_error_and_is_left_as_it_was(tmp_path, math_file, write_config, run_selftt):
    config = write_config(extra=_stt_extra(tmp_path))
    assert run_selftt(["translate", "--config", str(config)], cwd=tmp_path).returncode == 0
    part = next((tmp_path / "cache").glob("*/part-*.jsonl"))
    lines = part.read_bytes().split(b"\n")
    lines[2] = lines[2][: len(lines[2]) // 2]  # a complete line (newline-ended) that is not JSON
    part.write_bytes(b"\n".join(lines))
    damaged = part.read_bytes()
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 2, (result.stderr[-3000:], list((tmp_path / "cache").iterdir()))
    assert f"{part}:3: the translation cache is damaged" in result.stderr
    assert part.read_bytes() == damaged
    assert not list((tmp_path / "logs").glob("run/version_1/checkpoints/*.ckpt"))
