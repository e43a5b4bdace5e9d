"""The report's "Self-translated data" section: what the filters kept of each run's self-translations."""

from __future__ import annotations

from selftt.report.collect import Collection, order_langs, task_rank

FOUND = ("marker", "exact", "fuzzy", "none")


def _counts(values: list[int]) -> str:
    """One number when the runs agree (a shared translation cache), else min-max."""
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def self_translation_section(coll: Collection) -> list[str]:
    """Per (task, target language): translations kept of those made, the examples each filter rule
    rejected (an example failing several rules counts for each) and, for extractive QA, how each
    translated answer was found in its translated context. Over the runs in the tables."""
    acc: dict[tuple[str, str], list[dict]] = {}
    for run in coll.used_runs:
        for lang, entry in run.self_translation.items():
            acc.setdefault((run.task, lang), []).append(entry)
    out = ["## Self-translated data", ""]
    if not acc:
        return out + ["No run in the tables trained on self-translated data (or its results.json predates this record).", ""]
    out += [
        "What the filters kept of the self-translations of the runs in the tables (one number when "
        "the runs agree, else min-max). Rejected: examples per filter rule; an example failing "
        "several rules counts for each. Answer found (extractive QA): read back from the answer "
        "markers / found exactly / by fuzzy matching / not found (dropped by the answer_in_context "
        "rule unless translation.filters.qa_answer is keep).",
        "",
        "| Task | Lang | Runs | Kept | Kept % | Rejected by | Answer found (marker/exact/fuzzy/none) |",
        "|:---|:---|---:|---:|---:|:---|:---|",
    ]
    langs = order_langs({lang for _, lang in acc})
    for task, lang in sorted(acc, key=lambda k: (task_rank(k[0]), langs.index(k[1]))):
        entries = acc[task, lang]
        kept, total = [e["kept"] for e in entries], [e["total"] for e in entries]
        share = 100.0 * sum(kept) / max(sum(total), 1)
        rules = sorted({r for e in entries for r in e.get("rejected", {})})
        rejected = ", ".join(f"{r} {_counts([e.get('rejected', {}).get(r, 0) for e in entries])}" for r in rules)
        found_entries = [e["answer_found"] for e in entries if "answer_found" in e]
        found = "/".join(_counts([f.get(m, 0) for f in found_entries]) for m in FOUND) if found_entries else "—"
        out.append(
            f"| {task} | {lang} | {len(entries)} | {_counts(kept)} of {_counts(total)} | {share:.0f} "
            f"| {rejected or 'none'} | {found} |"
        )
    return out + [""]
