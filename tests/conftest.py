"""Shared test fixtures. Everything runs offline on CPU."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_hf_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.getbasetemp() / "hf_home"))


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
