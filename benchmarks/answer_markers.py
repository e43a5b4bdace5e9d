"""Which answer markers the model carries through its translation: the choice of ``translation.answer_markers``.

    python benchmarks/answer_markers.py                       # 40 XQuAD answer sentences, en -> de and zh
    python benchmarks/answer_markers.py --markers "[" "]" "«" "»"

For the first ``-n`` XQuAD questions (paragraphs 0-19, as the yield benchmark) the sentence of
the English context holding the answer is marked with each candidate pair of markers and
translated by Gemma 3 270M with selftt's prompt (4 shots, greedy, no retries). Reported per
marker and language: the share of translations from which exactly one marked span can be read
back (:func:`selftt.translation.projection.read_marked`), and of those, the share whose span is
found in XQuAD's human-translated answer set by selftt's exact-match metric. Writes
``benchmarks/results/answer_markers.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (sets threads before torch)

NAME = "answer_markers"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pypi://gemma3-270m")
    p.add_argument("-n", type=int, default=40, help="questions (distinct answer sentences)")
    p.add_argument("--langs", nargs="+", default=["de", "zh"])
    p.add_argument("--markers", nargs="+", default=["[", "]", "«", "»", "<b>", "</b>"], help="open close ...")
    p.add_argument("--threads", type=int, default=_common.DEFAULT_THREADS)
    p.add_argument("--out", type=Path, default=_common.DEFAULT_OUT)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _common.set_threads(args.threads)
    import torch
    from self_translation_yield import xquad_examples

    from selftt.modules.generation import GenerationSettings
    from selftt.modules.loading import load_causal_lm, load_tokenizer
    from selftt.tasks import get_task
    from selftt.translation.answer_projection import answer_offsets
    from selftt.translation.pieces import PieceSettings, marked_pieces, translate_pieces
    from selftt.translation.projection import read_marked
    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.shots import load_shots

    model = load_causal_lm(args.model, "none", torch.device("cpu"), torch.float32)
    tokenizer = load_tokenizer(args.model)
    pairs = list(zip(args.markers[::2], args.markers[1::2], strict=True))
    examples = xquad_examples("en", 0, 20)
    # the sentence holding each answer, once per distinct sentence
    chosen, seen = [], set()
    for e in examples:
        span = answer_offsets(e, "answer", "context")
        plain = [p for line in marked_pieces(e["context"], "en", "sentence", span, ("\x01", "\x02")) for p in line]
        sentence = next((p for p in plain if "\x01" in p), None)
        if sentence and sentence not in seen:
            seen.add(sentence)
            chosen.append((e, sentence))
        if len(chosen) == args.n:
            break
    qa = get_task("qa")
    rows = []
    for lang in args.langs:
        human = {e["id"]: e for e in xquad_examples(lang, 0, 20)}
        shots = load_shots(None, "en", lang)
        for opening, closing in pairs:
            texts = [s.replace("\x01", opening).replace("\x02", closing) for _, s in chosen]
            settings = PieceSettings(
                prompt=TranslationPrompt(n_shots=4),
                generation=GenerationSettings(max_new_tokens=320, max_batch_tokens=8192),
                segment="none",
                max_new_tokens_ratio=2.5,
                max_new_tokens_extra=16,
                answer_markers=None,
                retries=0,
            )
            out = translate_pieces(model, tokenizer, texts, "en", lang, shots, settings)
            read = [read_marked(text, (opening, closing)) for text, _ in out]
            kept = [(e, clean[s:t]) for (e, _), (clean, span) in zip(chosen, read, strict=True) if span for s, t in [span]]
            right = sum(qa.score([text], [human[e["id"]]["answers"]], lang)["exact_match"] == 100.0 for e, text in kept)
            row = {
                "lang": lang,
                "markers": f"{opening} {closing}",
                "n": len(chosen),
                "read_back": len(kept),
                "read_back_share": round(100.0 * len(kept) / max(len(chosen), 1), 1),
                "span_matches_human_answer": right,
            }
            rows.append(row)
            print(row, flush=True)
    result = {"model": args.model, "environment": _common.environment(args.threads), "rows": rows}
    md = [f"# Answer markers carried through translation ({len(chosen)} XQuAD answer sentences)", ""]
    md += _common.environment_markdown(result["environment"]) + [""]
    md += _common.table(
        ["lang", "markers", "read back", "read back %", "span = a human answer (EM)"],
        [[r["lang"], f"`{r['markers']}`", f"{r['read_back']}/{r['n']}", r["read_back_share"], r["span_matches_human_answer"]] for r in rows],
    )
    json_path, md_path = _common.save(args.out, NAME, result, md)
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
