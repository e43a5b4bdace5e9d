"""Two languages selftt does not ship, end to end from a user's shots file under tests/assets/:
Japanese (a script written without spaces) and Swahili (a low-resource Latin-script language),
from English, and Swahili from German source data.

The tiny random model cannot translate, so after ``translate`` fills the cache the test writes
real translations into it (the cache is a documented, user-visible format), spoiling two on
purpose: one in the wrong script, one five times too long. ``fit`` then re-filters the cached
translations (filter verdicts are recomputed on load), trains on what passed, evaluates on a
math set in the language, and ``report`` reads the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parent / "assets" / "languages"

NAMES = ["Tom", "Anna", "Lena", "Omar"]
THINGS = {  # English: German, Japanese, Swahili
    "apples": ("Äpfel", "りんご", "matufaha"),
    "books": ("Bücher", "本", "vitabu"),
    "coins": ("Münzen", "コイン", "sarafu"),
    "pencils": ("Stifte", "鉛筆", "penseli"),
}
N = 8
SPOILED_SCRIPT, SPOILED_LENGTH = 2, 5  # example indexes


def _example(i: int) -> dict[str, dict[str, str]]:
    """A GSM8K-format example in English and German, and its Japanese and Swahili translations
    (question and the worked answer, which is what the math task translates)."""
    a, b = 3 + i, 2 + (i * 7) % 11
    name, thing = NAMES[i % len(NAMES)], list(THINGS)[i % len(THINGS)]
    de_thing, ja_thing, sw_thing = THINGS[thing]
    return {
        "en": {
            "question": f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now?",
            "answer": f"{name} has {a} + {b} = {a + b} {thing}.\n#### {a + b}",
        },
        "de": {
            "question": f"{name} hat {a} {de_thing} und bekommt {b} dazu. Wie viele {de_thing} hat {name} jetzt?",
            "answer": f"{name} hat {a} + {b} = {a + b} {de_thing}.\n#### {a + b}",
        },
        "ja": {
            "question": f"{name}は{ja_thing}を{a}個持っていて、さらに{b}個もらいます。{name}は今{ja_thing}を何個持っていますか？",
            "answer": f"{name}は{ja_thing}を{a} + {b} = {a + b}個持っています。",
        },
        "sw": {
            "question": f"{name} ana {sw_thing} {a} na anapata {b} zaidi. {name} ana {sw_thing} ngapi sasa?",
            "answer": f"{name} ana {sw_thing} {a} + {b} = {a + b}.",
        },
    }


def _write_train(path: Path, lang: str) -> Path:
    path.write_text("".join(json.dumps(_example(i)[lang]) + "\n" for i in range(N)), encoding="utf-8")
    return path


def _fill_cache(cache: Path, lang: str) -> None:
    """Replace the tiny model's noise in every cache record by the real translation, spoiling
    two: one in the other language's script (the ``script`` filter), one five times too long
    (``length_ratio``)."""
    parts = sorted(cache.glob("*/part-*.jsonl"))
    assert parts, f"translate wrote no cache under {cache}"
    for part in parts:
        rows = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
        for row in rows:
            i = int(row["id"].rsplit("-", 1)[1]) - 1
            translations = _example(i)
            fields = {f: translations[lang][f] for f in row["fields"]}
            if i == SPOILED_SCRIPT:  # the other language's translation: the wrong script
                fields["question"] = translations["sw" if lang == "ja" else "ja"]["question"]
            if i == SPOILED_LENGTH:
                fields["question"] = " ".join([fields["question"]] * 5)
            row["fields"] = fields
            row["finish"] = {f: ["stop"] for f in fields}
            row.pop("reasons", None)
        part.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(("src", "lang", "shots"), [("en", "ja", "shots_ja"), ("en", "sw", "shots_sw"), ("de", "sw", "shots_de_sw")])
def test_a_language_selftt_does_not_ship_translates_filters_trains_evaluates_and_reports(
    src, lang, shots, tmp_path, write_config, run_selftt
):
    train = _write_train(tmp_path / "train.jsonl", src)
    config = write_config(
        val_sets=[{"path": str(ASSETS / f"math_{lang}.tsv"), "lang": lang}],
        extra={
            "data": {
                "components": [
                    {"name": "src", "path": str(train), "lang": src},
                    {"name": "tgt", "lang": lang},
                    {"name": "cs", "lang": lang, "direction": "src-tgt"},
                ],
                "val_holdout": 2,
            },
            "translation": {
                "shots_file": str(ASSETS / f"{shots}.json"),
                "prompt": {"n_shots": 2},
                "generation": {"max_new_tokens": 8},
            },
            "trainer": {"max_steps": 2, "val_check_interval": 2},
        },
    )
    result = run_selftt(["translate", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    _fill_cache(tmp_path / "cache", lang)

    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in next((tmp_path / "cache").glob("*/dataset.jsonl")).open()]
    verdicts = {int(r["id"].rsplit("-", 1)[1]) - 1: r for r in rows}
    assert len(verdicts) == N - 2  # the held-out examples are not translated
    spoiled = {SPOILED_SCRIPT: "question:script", SPOILED_LENGTH: "question:length_ratio"}
    for i, row in verdicts.items():
        if i in spoiled:
            assert not row["kept"] and spoiled[i] in row["reasons"], row
        else:
            assert row["kept"], row  # real translations pass the script and length filters
    assert any(i in verdicts for i in spoiled)

    results = json.loads(next((tmp_path / "logs").rglob("results.json")).read_text(encoding="utf-8"))
    scores = results["metrics"][f"math_{lang}"]
    assert scores["lang"] == lang and scores["n"] == 8

    out = tmp_path / "report"
    result = run_selftt(["report", "--logs", str(tmp_path / "logs"), "--out", str(out)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert results["source_lang"] == src
    table = (out / "report.md").read_text(encoding="utf-8")
    assert f"| Method | {lang} | avg | {src} |" in table  # the source's held-out set is not a target
    assert f"math_{lang}" in (out / "results.csv").read_text(encoding="utf-8")
