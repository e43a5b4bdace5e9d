"""Translation quality scores (BLEU, chrF per language) and the parallel reference files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torchmetrics.functional.text import sacre_bleu_score

from selftt.errors import ConfigError, DataError
from selftt.translation.quality import bleu_tokenizer, load_reference_pairs, translation_quality
from selftt.translation.shots import load_shots

SUPPORTED_LANGUAGES = ("de", "ru", "th", "zh")

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Hand-made (hypotheses, references) per language.
PAIRS = {
    "de": (
        ["Der Hund schläft im Garten.", "Sie kauft 3 Äpfel auf dem Markt.", "Wie spät ist es jetzt?"],
        ["Der Hund schläft im Garten.", "Sie kauft 3 Äpfel am Markt.", "Wie spät ist es?"],
    ),
    "ru": (
        ["Собака спит в саду.", "Она покупает 3 яблока на рынке.", "Который сейчас час?"],
        ["Собака спит в саду.", "Она купила 3 яблока на рынке.", "Который час?"],
    ),
    "th": (
        ["สุนัขนอนหลับอยู่ในสวน", "เธอซื้อแอปเปิล 3 ลูกที่ตลาด", "ตอนนี้กี่โมงแล้ว"],
        ["สุนัขกำลังนอนหลับอยู่ในสวน", "เธอซื้อแอปเปิล 3 ผลที่ตลาด", "ตอนนี้กี่โมง"],
    ),
    "zh": (
        ["狗在花园里睡觉。", "她在市场上买了3个苹果。", "现在几点了？"],
        ["狗正在花园里睡觉。", "她在市场买了3个苹果。", "现在是几点钟？"],
    ),
}

# Computed independently with sacrebleu 2.6.0 on PAIRS:
#   BLEU(tokenize=<"13a" | "char" for th | "zh" for zh>).corpus_score(hyps, [refs]).score
#   CHRF(eps_smoothing=True).corpus_score(hyps, [refs]).score
EXPECTED = {
    "de": {"bleu": 62.8308, "chrf": 89.7207},
    "ru": {"bleu": 67.5080, "chrf": 75.9265},
    "th": {"bleu": 82.5431, "chrf": 77.4545},
    "zh": {"bleu": 65.6557, "chrf": 57.2790},
}


def test_tokenizers():
    assert [bleu_tokenizer(lang) for lang in ("en", "de", "ru", "th", "zh")] == [
        "13a",
        "13a",
        "13a",
        "char",
        "zh",
    ]
    # any language, by its script: Japanese and the other unspaced scripts by characters
    assert [bleu_tokenizer(lang) for lang in ("fr", "sw", "hi", "ja", "zh-Hant", "lo", "ko")] == [
        "13a",
        "13a",
        "13a",
        "char",
        "zh",
        "char",
        "13a",
    ]
    with pytest.raises(ConfigError, match="not a known language"):
        bleu_tokenizer("xx-notalang")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_identical_translations_score_100(lang):
    references = [tgt for _, tgt in load_shots(None, "en", lang)]
    scores = translation_quality(list(references), references, lang)
    assert set(scores) == {"bleu", "chrf"}
    assert scores["bleu"] == pytest.approx(100.0)
    assert scores["chrf"] == pytest.approx(100.0)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_known_values(lang):
    hypotheses, references = PAIRS[lang]
    scores = translation_quality(hypotheses, references, lang)
    assert scores["bleu"] == pytest.approx(EXPECTED[lang]["bleu"], abs=1e-3)
    assert scores["chrf"] == pytest.approx(EXPECTED[lang]["chrf"], abs=1e-3)
    assert 0 < scores["bleu"] < 100 and 0 < scores["chrf"] < 100


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_agrees_with_sacrebleu(lang):
    sacrebleu = pytest.importorskip("sacrebleu")
    from sacrebleu.metrics import BLEU, CHRF

    hypotheses, references = PAIRS[lang]
    shots = [tgt for _, tgt in load_shots(None, "en", lang)]
    damaged = [t[: len(t) // 2] + t[len(t) // 2 + 2 :] for t in shots]  # two characters cut out mid-sentence
    for hyps, refs in ((hypotheses, references), (damaged, shots)):
        scores = translation_quality(hyps, refs, lang)
        bleu = BLEU(tokenize=bleu_tokenizer(lang), smooth_method="none").corpus_score(hyps, [refs]).score
        assert scores["bleu"] == pytest.approx(bleu, abs=1e-6)
        assert scores["bleu"] == pytest.approx(
            sacrebleu.corpus_bleu(hyps, [refs], tokenize=bleu_tokenizer(lang)).score
        )
        assert scores["chrf"] == pytest.approx(
            CHRF(eps_smoothing=True).corpus_score(hyps, [refs]).score, abs=1e-6
        )
        # plain chrF, not chrF++ (word n-grams would change the score)
        assert scores["chrf"] != pytest.approx(
            CHRF(word_order=2, eps_smoothing=True).corpus_score(hyps, [refs]).score
        )


@pytest.mark.parametrize(
    ("lang", "reference", "hypothesis"),
    [
        ("zh", "她在市场上买了三个苹果。", "她在市场上买了3个苹果。"),  # one character differs
        ("th", "เธอซื้อแอปเปิลสามลูกที่ตลาดเมื่อเช้านี้", "เธอซื้อแอปเปิ้ลสามลูกที่ตลาดเมื่อเช้านี้"),  # one tone mark added
    ],
)
def test_unsegmented_scripts_are_scored_by_character(lang, reference, hypothesis):
    scores = translation_quality([hypothesis], [reference], lang)
    assert 50 < scores["bleu"] < 100
    assert 50 < scores["chrf"] < 100
    # word tokenization ("13a") sees one token per sentence: BLEU 0 for any difference
    assert float(sacre_bleu_score([hypothesis], [[reference]], tokenize="13a")) == 0.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="no translations"):
        translation_quality([], [], "de")
    with pytest.raises(ValueError, match="2 translations but 1 references"):
        translation_quality(["a", "b"], ["a"], "de")
    with pytest.raises(ConfigError, match="not a known language"):
        translation_quality(["a"], ["a"], "xx")


# ---------------------------------------------------------------------------- reference files
@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


def test_mgsm_reference_pairs(shared_data):
    pairs = load_reference_pairs(str(shared_data / "mgsm/mgsm_en.tsv"), str(shared_data / "mgsm/mgsm_de.tsv"))
    assert len(pairs) == 250
    en, de = pairs[0]
    assert en.startswith("Janet") and de.startswith("Janets Enten")
    assert "\t" not in en + de
    assert all(src and tgt for src, tgt in pairs)
    assert (
        load_reference_pairs(
            str(shared_data / "mgsm/mgsm_en.tsv"), str(shared_data / "mgsm/mgsm_de.tsv"), limit=10
        )
        == pairs[:10]
    )


def test_xquad_reference_pairs(shared_data):
    en_file, zh_file = shared_data / "xquad/xquad.en.json", shared_data / "xquad/xquad.zh.json"
    pairs = load_reference_pairs(str(en_file), str(zh_file))
    data = json.loads(en_file.read_text(encoding="utf-8"))
    contexts = {p["context"].strip() for a in data["data"] for p in a["paragraphs"]}
    context_pairs = [pair for pair in pairs if pair[0] in contexts]
    assert len(context_pairs) == 240
    assert len(pairs) - len(context_pairs) == 1190
    first = data["data"][0]["paragraphs"][0]
    assert pairs[0][0] == first["context"].strip()
    assert pairs[1][0] == first["qas"][0]["question"].strip()
    assert pairs[1][1] == "黑豹队的防守丢了多少分？"
    assert len(set(pairs[0][1])) > 20  # a Chinese paragraph, not an id or an empty string


def test_mismatched_real_files(shared_data, tmp_path):
    short = tmp_path / "mgsm_de.tsv"
    short.write_text(
        "\n".join((shared_data / "mgsm/mgsm_de.tsv").read_text(encoding="utf-8").splitlines()[:-1]) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="249 rows") as info:
        load_reference_pairs(str(shared_data / "mgsm/mgsm_en.tsv"), str(short))
    assert info.value.path == str(short)

    data = json.loads((shared_data / "xquad/xquad.zh.json").read_text(encoding="utf-8"))
    lost = data["data"][3]["paragraphs"][0]["qas"].pop()
    fewer = tmp_path / "xquad.zh.json"
    fewer.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataError, match="lacks 1 question id") as info:
        load_reference_pairs(str(shared_data / "xquad/xquad.en.json"), str(fewer))
    assert info.value.path == str(fewer) and lost["id"] in str(info.value)
    with pytest.raises(DataError) as info:
        load_reference_pairs(str(fewer), str(shared_data / "xquad/xquad.en.json"))
    assert info.value.path == str(fewer)

    with pytest.raises(DataError, match="not the same format"):
        load_reference_pairs(str(shared_data / "xquad/xquad.en.json"), str(shared_data / "mgsm/mgsm_zh.tsv"))


def _squad(path: Path, paragraphs: list[tuple[str, list[tuple[str, str]]]]) -> str:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {"context": c, "qas": [{"id": i, "question": q, "answers": []} for i, q in qas]}
                    for c, qas in paragraphs
                ],
            }
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_squad_pairs_by_id_not_by_position(tmp_path):
    en = _squad(
        tmp_path / "en.json",
        [("Context A.", [("q1", "Who?"), ("q2", "When?")]), ("Context B.", [("q3", "Why?")])],
    )
    de = _squad(
        tmp_path / "de.json",
        [("Kontext B.", [("q3", "Warum?")]), ("Kontext A.", [("q2", "Wann?"), ("q1", "Wer?")])],
    )
    assert load_reference_pairs(en, de) == [
        ("Context A.", "Kontext A."),
        ("Who?", "Wer?"),
        ("When?", "Wann?"),
        ("Context B.", "Kontext B."),
        ("Why?", "Warum?"),
    ]
    assert load_reference_pairs(en, de, limit=2) == [("Context A.", "Kontext A."), ("Who?", "Wer?")]


def test_squad_duplicate_contexts_once(tmp_path):
    en = _squad(tmp_path / "en.json", [("Same.", [("q1", "A?")]), ("Same.", [("q2", "B?")])])
    de = _squad(tmp_path / "de.json", [("Gleich.", [("q1", "A-de?")]), ("Gleich.", [("q2", "B-de?")])])
    assert load_reference_pairs(en, de) == [("Same.", "Gleich."), ("A?", "A-de?"), ("B?", "B-de?")]


def test_squad_paragraph_split_differently(tmp_path):
    en = _squad(tmp_path / "en.json", [("A.", [("q1", "1?"), ("q2", "2?")])])
    de = _squad(tmp_path / "de.json", [("A1.", [("q1", "1?")]), ("A2.", [("q2", "2?")])])
    with pytest.raises(DataError, match="different paragraphs") as info:
        load_reference_pairs(en, de)
    assert info.value.path == de


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{oops", "not valid JSON"),
        ("bad.json", '{"data": [{"paragraphs": [{"qas": []}]}]}', "not SQuAD"),
        ("bad.json", '{"version": "1.1"}', "expected SQuAD"),
        ("bad.json", '{"data": []}', "no questions"),
        ("bad.tsv", "question one\t5\nquestion two\n", "question<TAB>answer"),
        ("bad.tsv", "", "no rows"),
        ("bad.txt", "question\t5\n", "unknown reference format"),
    ],
)
def test_malformed_reference_files_name_the_file(tmp_path, name, content, message):
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    good = tmp_path / ("good.json" if name.endswith(".json") else "good.tsv")
    if name.endswith(".json"):
        _squad(good, [("C.", [("q1", "Q?")])])
    else:
        good.write_text("question\t5\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_reference_pairs(str(good), str(bad))
    assert info.value.path == str(bad)


def test_tsv_line_number_and_crlf(tmp_path):
    src = tmp_path / "en.tsv"
    src.write_text("One?\t1\r\nTwo?\t2\r\n", encoding="utf-8")
    ref = tmp_path / "de.tsv"
    ref.write_text("Eins?\t1\nZwei?\t2\textra\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_reference_pairs(str(src), str(ref))
    assert info.value.line == 2
    ref.write_text("Eins?\t1\nZwei?\t2\n", encoding="utf-8")
    assert load_reference_pairs(str(src), str(ref)) == [("One?", "Eins?"), ("Two?", "Zwei?")]


def test_missing_reference_file(tmp_path):
    src = tmp_path / "en.tsv"
    src.write_text("One?\t1\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read") as info:
        load_reference_pairs(str(src), str(tmp_path / "absent.tsv"))
    assert "absent.tsv" in info.value.path
