"""Kept self-translations as a Hugging Face data set: one Parquet file per target language plus a
dataset card (``README.md``), loadable with ``datasets.load_dataset(folder, lang)``.

Layout (the Hub's own for data sets with several configurations)::

    DIR/README.md                 dataset card; its YAML header lists one config per language
    DIR/<lang>/train.parquet      the kept translations of that language
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from selftt.languages import get_language
from selftt.tasks import Task
from selftt.translation.filter_settings import FilterSettings
from selftt.translation.filters import rejection_summary
from selftt.translation.translator import TranslationOutcome
from selftt.utils.atomic import write_dir_atomic

CARD = "README.md"


def translated_rows(outcome: TranslationOutcome, task: Task) -> list[dict[str, Any]]:
    """One row per kept translation, in source order: ``id``, ``lang``, ``src_lang``, the task's
    fields in the target language (those not translated keep their source value) and
    ``source``, the source example's fields."""
    rows = []
    for source, translated in outcome.pairs:
        row: dict[str, Any] = {"id": source["id"], "lang": outcome.lang, "src_lang": source["lang"]}
        row |= {name: translated.get(name) for name in task.fields}
        row["source"] = {name: source.get(name) for name in task.fields}
        rows.append(row)
    return rows


def _cache_inputs(outcome: TranslationOutcome) -> dict[str, Any]:
    """What the translation cache records about how these translations were made (model and its
    file hashes or hub revision, prompt with its shots, decoding): ``meta.json``'s inputs."""
    meta = outcome.cache_dir / "meta.json"
    return json.loads(meta.read_text(encoding="utf-8")).get("inputs", {}) if meta.is_file() else {}


def dataset_card(
    outcomes: list[TranslationOutcome],
    task: Task,
    filters: FilterSettings,
    license: str,
    made_with: dict[str, str] | None = None,
) -> str:
    """The dataset card: YAML metadata (languages, licence, one config per language) and what a
    reader needs to judge the data: model and revision, prompt and shots, decoding, filters with
    their settings and rejections per rule, and the source's licence. ``made_with``: more lines
    of the list at the top (``{"source data": ..., "engine": ...}``)."""
    langs = [o.lang for o in outcomes]
    src_langs = {o.translated.src_lang for o in outcomes}
    header = {
        "language": sorted(set(src_langs) | set(langs)),
        "license": license,
        "tags": ["selftt", "self-translation", "translate-train", "synthetic"],
        "configs": [
            {"config_name": o.lang, "data_files": [{"split": "train", "path": f"{o.lang}/train.parquet"}]}
            for o in outcomes
            if o.pairs
        ],
    }
    first = _cache_inputs(outcomes[0]) if outcomes else {}
    model = first.get("model", {})
    revision = model.get("revision") or ", ".join(f"{k} sha256 {v[:12]}" for k, v in model.get("files", {}).items())
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# Self-translated {task.name} data ({', '.join(langs)})",
        "",
        "Made by [selftt](https://arxiv.org/abs/2407.00454) (Self-Translate-Train): the model below translated "
        "its own training data with a few-shot prompt; translations that failed the filters were dropped.",
        "",
        f"- **model**: `{model.get('model', 'unknown')}` ({model.get('quantization')}, {model.get('dtype')})",
        f"- **revision**: {revision or 'unknown'}",
        f"- **task**: {task.name}; translated fields: {', '.join(first.get('fields', task.translatable))}",
        f"- **licence of the source data**: {license} (selftt does not know it: set by the exporter; the "
        "translations inherit the source's terms)",
        *[f"- **{name}**: {value}" for name, value in (made_with or {}).items()],
        "",
        "## Per language",
        "",
        "| language | kept | total | rejected by (examples per rule) |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        rules = rejection_summary(o.counts) or "none"
        note = "" if o.pairs else " (nothing kept: no data file)"
        lines.append(f"| {o.lang} ({get_language(o.lang).name}){note} | {o.counts['kept']} | {o.counts['total']} | {rules} |")
    for o in outcomes:
        inputs = _cache_inputs(o)
        lines += ["", f"## Prompt and decoding, {o.translated.src_lang} -> {o.lang}", ""]
        lines += ["```json", json.dumps({k: inputs.get(k) for k in ("prompt", "decoding")}, indent=1, ensure_ascii=False), "```"]
    lines += ["", "## Filters", "", "```json", json.dumps(asdict(filters), indent=1, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def export_translated_dataset(
    outcomes: list[TranslationOutcome],
    task: Task,
    filters: FilterSettings,
    folder: Path,
    license: str = "unknown",
    made_with: dict[str, str] | None = None,
) -> Path:
    """Write the kept translations of ``outcomes`` (one per target language) as Parquet files and
    a dataset card into ``folder``, atomically (a crash leaves no half-written data set).
    Returns ``folder``; ``datasets.load_dataset(str(folder), lang)["train"]`` reads it back."""
    from datasets import Dataset

    def write(tmp: Path) -> None:
        for outcome in outcomes:
            if outcome.pairs:  # a language with nothing kept gets no config: datasets refuses empty splits
                (tmp / outcome.lang).mkdir()
                Dataset.from_list(translated_rows(outcome, task)).to_parquet(str(tmp / outcome.lang / "train.parquet"))
        (tmp / CARD).write_text(dataset_card(outcomes, task, filters, license, made_with), encoding="utf-8")

    return write_dir_atomic(folder, write)


def push_dataset_to_hub(folder: Path, repo_id: str, private: bool = True) -> str:
    """Upload an exported folder to the Hugging Face Hub as a dataset repository (created if
    missing; private by default). Needs network and a token (``huggingface-cli login``); not
    tested offline. Returns the repository's URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset")
    return str(url)


__all__ = ["dataset_card", "export_translated_dataset", "push_dataset_to_hub", "translated_rows"]
