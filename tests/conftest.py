"""Shared test fixtures. Everything runs offline on CPU."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch import Trainer  # noqa: E402

from selftt.datamodules.components import DataComponent  # noqa: E402
from selftt.datamodules.datamodule import SelfTTDataModule  # noqa: E402
from selftt.modules import LoraSettings, SelfTTModule  # noqa: E402

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _isolated_hf_home(tmp_path_factory):
    """One HF_HOME for the whole session, set before any fixture runs selftt (the warm runner's
    forkserver keeps the environment it started with)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path_factory.getbasetemp() / "hf_home"))
        yield


@pytest.fixture
def shared_data() -> Path:
    """The real benchmark files in ``<repo>/../shared/data``; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def tiny_model() -> str:
    """A tiny random Llama with a BPE tokenizer trained by the project (no chat template)."""
    return str(ASSETS / "tiny-llama")


@pytest.fixture
def tiny_chat_model() -> str:
    """The same tiny model, its tokenizer carrying a chat template."""
    return str(ASSETS / "tiny-llama-chat")


def write_math_jsonl(path: Path, n: int = 24) -> Path:
    """``n`` GSM8K-format examples (with calculator annotations) written by the test suite."""
    import json

    names = ["Tom", "Anna", "Lena", "Ivan", "Mia", "Omar"]
    things = ["apples", "books", "coins", "pencils"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            a, b = 3 + i, 2 + (i * 7) % 11
            name, thing = names[i % len(names)], things[i % len(things)]
            question = f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now?"
            answer = f"{name} has {a} + {b} = <<{a}+{b}={a + b}>>{a + b} {thing}.\n#### {a + b}"
            f.write(json.dumps({"question": question, "answer": answer}) + "\n")
    return path


@pytest.fixture
def math_file(tmp_path) -> Path:
    return write_math_jsonl(tmp_path / "math_train.jsonl")


def write_mgsm_tsv(path: Path) -> Path:
    """Five MGSM-format rows in German (question<TAB>number), written by the test suite."""
    rows = [
        ("Anna hat 3 Äpfel und kauft 4 dazu. Wie viele Äpfel hat sie?", "7"),
        ("Ein Buch kostet 12 Euro. Was kosten 3 Bücher?", "36"),
        ("Tom liest 5 Seiten pro Tag. Wie viele Seiten liest er in 6 Tagen?", "30"),
        ("Lena hat 20 Stifte und gibt 8 weg. Wie viele Stifte bleiben?", "12"),
        ("Ein Zug fährt 60 km pro Stunde. Wie weit fährt er in 2 Stunden?", "120"),
    ]
    path.write_text("".join(f"{q}\t{a}\n" for q, a in rows), encoding="utf-8")
    return path


@pytest.fixture
def mgsm_file(tmp_path) -> Path:
    return write_mgsm_tsv(tmp_path / "mgsm_de.tsv")


def _deep_update(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value
    return base


@pytest.fixture
def write_config(tmp_path, tiny_model, math_file):
    """Writes a small fit config (tiny model, the math file, logs under tmp_path) and returns its path.

    ``val_sets`` and ``trainer`` keywords go to their sections; ``extra`` is merged in deeply.
    """
    import yaml

    def write(val_sets=(), extra: dict | None = None, filename: str = "config.yaml", **trainer) -> Path:
        config = {
            "seed_everything": 0,
            "trainer": {
                "accelerator": "cpu",
                "devices": 1,
                "max_steps": 4,
                "val_check_interval": 2,
                "check_val_every_n_epoch": None,
                "log_every_n_steps": 1,
                "num_sanity_val_steps": 0,
                "enable_model_summary": False,
                "logger": {
                    "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                    "init_args": {"save_dir": str(tmp_path / "logs"), "name": "run"},
                },
                **trainer,
            },
            "model": {
                "model_name_or_path": tiny_model,
                "quantization": "none",
                "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
                "generation": {"max_new_tokens": 8},
                "optimizer": {"class_path": "torch.optim.AdamW", "init_args": {"lr": 0.01}},
            },
            "data": {
                "task": "math",
                "components": [{"name": "src", "path": str(math_file), "lang": "en"}],
                "val_holdout": 4,
                "val_sets": list(val_sets),
                "batch_size": 4,
                "max_length": 256,
            },
            "translation": {"cache_dir": str(tmp_path / "cache")},
        }
        _deep_update(config, extra or {})
        path = tmp_path / filename
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        return path

    return write


def _load_warm_cli():
    import importlib.util

    spec = importlib.util.spec_from_file_location("selftt_tests_warm_cli", REPO / "tests" / "warm_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


warm_cli = _load_warm_cli()


def run_selftt_command(
    args: list[str], cwd: Path, timeout: int = 300, env: dict[str, str] | None = None, cold: bool = False
):
    """``python -m selftt ARGS`` in a new process, offline, one thread, with ``env`` added to the
    environment; returns CompletedProcess. It is forked from a process that imported selftt once
    (``tests/warm_cli.py``) unless ``cold`` or ``env`` changes a variable read at import time."""
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    if not cold and warm_cli.warm_allowed(env):
        return warm_cli.run_warm(args, cwd, env, timeout)
    return subprocess.run(
        [sys.executable, "-m", "selftt", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def run_selftt():
    return run_selftt_command


@pytest.fixture(scope="session")
def warm_runner():
    """The ``tests/warm_cli.py`` module behind ``run_selftt`` (for its own tests)."""
    return warm_cli


def with_pythonpath(folder: str | Path) -> dict[str, str]:
    """``env`` for ``run_selftt`` that puts ``folder`` first on PYTHONPATH (fault injection, fakes)."""
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="session")
def pythonpath_env():
    return with_pythonpath


def translation_cache_ids(cache_root: Path) -> list[str]:
    """The example ids of every record in the translation cache parts under ``cache_root``
    (a line cut short by a kill, or empty, is skipped)."""
    import contextlib
    import json

    ids = []
    for part in sorted(cache_root.glob("*/part-*.jsonl")):
        for line in part.read_bytes().split(b"\n"):
            with contextlib.suppress(ValueError):
                ids.append(json.loads(line)["id"])
    return ids


@pytest.fixture(scope="session")
def cache_ids():
    """The ``translation_cache_ids`` helper."""
    return translation_cache_ids


@pytest.fixture
def write_math():
    """The ``write_math_jsonl`` helper, for tests that need another size."""
    return write_math_jsonl


NO_FILTERS = {
    "empty": False,
    "untranslated": False,
    "length_ratio": False,
    "repetition": False,
    "script": False,
    "numbers": False,
    "truncated": False,
    "empty_line": False,
    "lost_question": False,
    "scaffolding": False,
    "language_id": False,
    "duplicates": False,
}
"""Translation filter settings that keep every translation (the tiny model's are noise)."""


@pytest.fixture
def no_filters() -> dict:
    return dict(NO_FILTERS)


@pytest.fixture
def make_run(tiny_model, math_file, tmp_path):
    """(tests/modules, tests/training) Factory of (module, datamodule, trainer) on the tiny model and a small math file."""

    def make(quantization="none", max_steps=4, lr=1e-2, **trainer_kwargs):
        module = SelfTTModule(
            tiny_model,
            quantization=quantization,
            lora=LoraSettings(r=4, alpha=8, dropout=0.0),
            optimizer=partial(torch.optim.AdamW, lr=lr),
        )
        data = SelfTTDataModule(
            task="math",
            components=[DataComponent(name="src", path=str(math_file), lang="en")],
            val_holdout=4,
            tokenizer=tiny_model,
            batch_size=4,
            max_length=256,
        )
        kwargs = dict(
            accelerator="cpu",
            devices=1,
            max_steps=max_steps,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            default_root_dir=tmp_path,
        )
        kwargs.update(trainer_kwargs)
        return module, data, Trainer(**kwargs)

    return make
