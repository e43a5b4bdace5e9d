"""Self-translation: the model being trained translates its own source data, once per example."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from selftt.errors import SelfTTError
from selftt.modules.generation import GENERATOR_VERSION
from selftt.tasks import Example, Task
from selftt.translation.answer_projection import answer_offsets, count_found, project_example
from selftt.translation.cache import TranslationCache, source_hash
from selftt.translation.filters import FilterSettings, count_reasons, duplicate_reasons, filter_example
from selftt.translation.handoff import TranslatedSet
from selftt.translation.output_checks import language_labels
from selftt.translation.pieces import (
    DROPPED,
    PIECE_CHECK_VERSION,
    SHOT_ROTATION_VERSION,
    kept_source,
    translate_pieces,
)
from selftt.translation.segments import Span
from selftt.translation.settings import TranslationSettings
from selftt.translation.shots import load_shots
from selftt.translation.translating_model import TranslatingModel
from selftt.utils.distributed import Distributed

log = logging.getLogger(__name__)


@dataclass
class TranslationOutcome:
    """The translations of one target language, filtered."""

    lang: str
    translated: TranslatedSet
    """The kept translations: what the data module's mixture is built from."""
    records: list[dict[str, Any]]
    """Every translation with its verdict (``kept``, ``reasons``): the inspectable data set."""
    counts: dict[str, int]
    """Examples rejected per filter rule, plus ``kept`` and ``total``."""
    translated_now: int
    cached: int
    cache_dir: Path
    dropped_partial_lines: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> list[tuple[Example, Example]]:
        """(source example, translated example) for every kept translation, in source order."""
        return self.translated.pairs


class SelfTranslator:
    """Translates task examples field by field with a few-shot prompt and the shared generator.

    Multi-line fields (a chain of thought) are translated line by line: short prompts are
    easier for small models and keep one reasoning step per line. Each line may use
    ``max_new_tokens_ratio`` x its token count + ``max_new_tokens_extra`` new tokens.
    """

    def __init__(self, task: Task, settings: TranslationSettings) -> None:
        self.task = task
        self.settings = settings
        self.fields = tuple(settings.fields) if settings.fields else task.translatable
        self.prompt = settings.prompt
        self.shots_file = settings.shots_file
        self.generation = settings.generation
        self.max_new_tokens_ratio = settings.max_new_tokens_ratio
        self.max_new_tokens_extra = settings.max_new_tokens_extra
        self.filters = settings.filters
        self.cache_dir = Path(settings.cache_dir)
        self.chunk_size = settings.chunk_size
        self.pieces = settings.pieces(task)
        self.project_answers = task.answer_span is not None
        """Read each translated answer back from its translated context (off for round trips)."""

    # ------------------------------------------------------------------ text level
    def translate_texts(
        self, translating: TranslatingModel, texts: Sequence[str], src_lang: str, tgt_lang: str, shots: list[tuple[str, str]]
    ) -> list[str]:
        """Translations of ``texts`` by the base model (adapter off), newline structure kept."""
        return [text for text, _ in self.translate_texts_detailed(translating, texts, src_lang, tgt_lang, shots)]

    def translate_texts_detailed(
        self,
        translating: TranslatingModel,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        shots: list[tuple[str, str]],
        spans: Sequence[Span | None] | None = None,
    ) -> list[tuple[str, list[str]]]:
        """(translation, finish reason of each translated piece) for each of ``texts``, pieces
        cut by ``translation.segment``; ``spans`` are answer spans to mark (see
        :func:`selftt.translation.pieces.translate_pieces`)."""
        generator = None if translating.engine.name == "hf" else translating.generator(self.generation)
        return translate_pieces(
            translating.model, translating.tokenizer, texts, src_lang, tgt_lang, shots, self.pieces, spans, generator
        )

    # ------------------------------------------------------------------ example level
    def run(
        self,
        translating: TranslatingModel,
        examples: Sequence[Example],
        src_lang: str,
        tgt_lang: str,
        dist: Distributed,
        shots: list[tuple[str, str]] | None = None,
    ) -> TranslationOutcome:
        """Translate what the cache lacks (sharded over ranks, written by rank 0), then filter all
        (with the ``round_trip`` rule: after translating the kept candidates back, see
        :meth:`round_trip`). ``shots``: the prompt's pairs (default: from ``translation.shots_file``)."""
        shots = shots if shots is not None else load_shots(self.shots_file, src_lang, tgt_lang)
        cache = TranslationCache(self.cache_dir, self.key_inputs(translating, shots, src_lang, tgt_lang))
        if dist.is_main:
            cache.open()
        hashes = {e["id"]: source_hash(e, self.fields) for e in examples}
        done = dist.broadcast(cache.load() if dist.is_main else None)
        missing = [e for e in examples if (e["id"], hashes[e["id"]]) not in done]
        if dist.is_main:
            log.info(
                "self-translation %s->%s: %d of %d examples to translate, %d cached in %s",
                src_lang,
                tgt_lang,
                len(missing),
                len(examples),
                len(examples) - len(missing),
                cache.dir,
            )
        shard = missing[dist.rank :: dist.world_size]
        per_rank = math.ceil(len(missing) / dist.world_size)
        n_chunks = math.ceil(per_rank / self.chunk_size)
        bar = tqdm(
            total=len(missing),
            desc=f"self-translating {src_lang}->{tgt_lang}",
            disable=not dist.is_main or not missing,
            dynamic_ncols=True,
        )
        writer = cache.writer() if dist.is_main else None
        try:
            for c in range(n_chunks):  # every rank runs the same number of chunks: they gather each
                chunk = shard[c * self.chunk_size : (c + 1) * self.chunk_size]
                records = self._translate_chunk(translating, chunk, hashes, src_lang, tgt_lang, shots)
                gathered = [r for part in dist.gather(records) for r in part]
                if writer is not None:
                    writer.write(gathered)
                bar.update(len(gathered))
        finally:
            bar.close()
            if writer is not None:
                writer.close()
        dist.barrier()
        final = dist.broadcast(cache.load() if dist.is_main else None)
        back_translate = None
        if self.filters.round_trip:
            def back_translate(kept: list[Example]) -> dict[str, dict[str, str]]:
                return self.round_trip(translating, kept, src_lang, tgt_lang, shots, dist)

        outcome = self._outcome(examples, final, hashes, src_lang, tgt_lang, cache, shots, back_translate)
        outcome.translated_now = len(missing)
        outcome.cached = len(examples) - len(missing)
        return outcome

    def key_inputs(
        self, translating: TranslatingModel, shots: list[tuple[str, str]], src_lang: str, tgt_lang: str
    ) -> dict:
        """Everything that changes a translation: model, prompt and shots, decoding, task, languages."""
        decoding = self.generation.decoding()  # batch sizes and the prefix cache change no output
        engine = {} if translating.engine.name == "hf" else {"engine": translating.engine.name}  # hf: keys as before
        return {
            **engine,
            "generator_version": GENERATOR_VERSION,
            "task": self.task.name,
            "src_lang": src_lang,
            "tgt_lang": tgt_lang,
            "fields": list(self.fields),
            "model": translating.identity(),
            "prompt": self.prompt.fingerprint(shots, src_lang, tgt_lang),
            "decoding": {
                **decoding,
                "max_new_tokens_ratio": self.max_new_tokens_ratio,
                "max_new_tokens_extra": self.max_new_tokens_extra,
                **self._segmentation_key(),
            },
        }

    def _segmentation_key(self) -> dict[str, Any]:
        """Line by line without markers keeps the key of caches written before sentence splitting."""
        if self.pieces.segment == "line" and self.pieces.answer_markers is None and not self.pieces.retries:
            return {"line_by_line": True}
        key = {"segment": self.pieces.segment, "answer_markers": self.pieces.answer_markers}
        if self.pieces.retries:
            key |= {"retries": self.pieces.retries, "piece_check": PIECE_CHECK_VERSION}
        if self.pieces.retries > 1:  # the order of shots from the second retry on changed once
            key |= {"shot_rotation": SHOT_ROTATION_VERSION}
        if self.pieces.drop_failed_pieces and self.pieces.answer_markers:  # only marked contexts drop pieces
            key |= {"drop_failed_pieces": self.pieces.drop_failed_pieces}
        return key

    def _translate_chunk(
        self,
        translating: TranslatingModel,
        chunk: Sequence[Example],
        hashes: dict[str, str],
        src_lang: str,
        tgt_lang: str,
        shots: list[tuple[str, str]],
    ) -> list[dict[str, Any]]:
        """Cache records of ``chunk``'s translations, unfiltered: ``_outcome`` filters every
        translation once, cached or new, with the filters of this run."""
        if not chunk:
            return []
        fields = self.fields
        texts = [str(example.get(f) or "") for example in chunk for f in fields]
        spans = [self._answer_span(example, f) for example in chunk for f in fields]
        out = self.translate_texts_detailed(translating, texts, src_lang, tgt_lang, shots, spans)
        records = []
        for n, example in enumerate(chunk):
            part = out[n * len(fields) : (n + 1) * len(fields)]
            records.append(
                {
                    "id": example["id"],
                    "src_hash": hashes[example["id"]],
                    "lang": tgt_lang,
                    "fields": {f: text for f, (text, _) in zip(fields, part, strict=True)},
                    "finish": {f: reasons for f, (_, reasons) in zip(fields, part, strict=True)},
                }
            )
        return records

    def _answer_span(self, example: Example, field_name: str) -> Span | None:
        """The answer's (start, end) in ``field_name`` if it is the task's answer context, else None."""
        if self.task.answer_span is None or self.pieces.answer_markers is None:
            return None
        answer_field, context_field = self.task.answer_span
        if field_name != context_field:
            return None
        return answer_offsets(example, answer_field, context_field)

    def _filtered_source(self, example: Example, record: dict[str, Any], src_lang: str) -> Example:
        """The source the filters compare the translation with: ``example`` without the pieces
        left out of its translation (see :func:`selftt.translation.pieces.kept_source`)."""
        finish = record.get("finish") or {}
        cut = {
            f: kept_source(str(example.get(f) or ""), src_lang, self.pieces.segment, self._answer_span(example, f),
                           self.pieces.answer_markers, reasons)
            for f, reasons in finish.items()
            if DROPPED in reasons
        }  # fmt: skip
        return {**example, **cut} if cut else example

    def labels(self, src_lang: str, tgt_lang: str) -> tuple[str, ...]:
        """The language labels that must not appear in a translation (the ``scaffolding`` rule)."""
        return language_labels(src_lang, tgt_lang, tuple(self.prompt.language_names(src_lang, tgt_lang)))

    def _translated(
        self, example: Example, fields: dict[str, str], tgt_lang: str, min_score: float
    ) -> tuple[Example, dict[str, Any] | None]:
        """The source example with its translatable fields replaced (other fields kept as they
        are), its answer projected into its context for a task with an ``answer_span``; and how
        that answer was found (None for other tasks)."""
        out = {
            **example,
            **fields,
            "id": f"{example['id']}@{tgt_lang}",
            "source_id": example["id"],
            "lang": tgt_lang,
        }
        found = None
        span = self.task.answer_span
        if span is not None and self.project_answers and span[0] in fields:
            out, found = project_example(out, *span, tgt_lang, self.pieces.answer_markers, min_score)
            gold = self.task.gold_field
            if gold != span[0] and isinstance(example.get(gold), list):
                out[gold] = [out[span[0]]]  # only the translated answer is known in tgt
        return out, found

    def round_trip(
        self,
        translating: TranslatingModel,
        translated: list[Example],
        src_lang: str,
        tgt_lang: str,
        shots: list[tuple[str, str]],
        dist: Distributed,
    ) -> dict[str, dict[str, str]]:
        """Per translated example id (``<id>@<tgt>``), its fields translated back into the source
        language by the same model, with the forward shots reversed. Cached like any translation
        (keyed by the translated text), no filters, no answer markers. ``translated``: the
        translated examples that passed every other rule (the same list on every rank)."""
        off = FilterSettings(**{name: False for name in FilterSettings.switches()})
        backward = SelfTranslator(self.task, replace(self.settings, filters=off, answer_markers=None))
        backward.fields, backward.project_answers = self.fields, False
        outcome = backward.run(translating, translated, tgt_lang, src_lang, dist, [(b, a) for a, b in shots])
        return {row["id"]: row["translation"] for row in outcome.records}

    def _outcome(
        self, examples, records, hashes, src_lang, tgt_lang, cache, shots, back_translate=None
    ) -> TranslationOutcome:
        """Every translation filtered (once, whether cached or new), counted and paired with its
        source. ``back_translate`` (the ``round_trip`` rule): called once with the translations
        that pass every other rule, returns their round-trip translations by translated id."""
        labels = self.labels(src_lang, tgt_lang)
        # Length bounds for this pair: the user's, the tuned ones (English source), or estimated from the shots.
        filters = self.filters.for_pair(src_lang, tgt_lang, shots)
        translated_all, found_all = [], []
        for example in examples:
            record = records.get((example["id"], hashes[example["id"]]))
            if record is None:
                raise SelfTTError(
                    f"translation of '{example['id']}' is missing from {cache.dir} after translating"
                )
            translated, found = self._translated(example, record["fields"], tgt_lang, filters.answer_min_score)
            translated_all.append((record, translated))
            found_all.append(found)
        duplicates = (
            duplicate_reasons(examples, [t for _, t in translated_all], self.fields) if filters.duplicates else {}
        )

        def verdict(n: int, back: dict[str, str] | None = None) -> list[str]:
            record, translated = translated_all[n]
            reasons = filter_example(
                self.task,
                self._filtered_source(examples[n], record, src_lang),
                translated,
                tgt_lang,
                filters,
                self.fields,
                finish=record.get("finish"),  # absent in caches written before finish reasons
                labels=labels,
                src_lang=src_lang,
                back=back,
            )
            return reasons + duplicates.get(n, [])

        verdicts = [verdict(n) for n in range(len(examples))]
        if back_translate is not None:  # only what every other rule keeps is translated back
            kept = [n for n, reasons in enumerate(verdicts) if not reasons]
            back = back_translate([translated_all[n][1] for n in kept])
            for n in kept:
                verdicts[n] = verdict(n, back.get(translated_all[n][1]["id"]))
        pairs, rows = [], []
        for example, (record, translated), found, reasons in zip(
            examples, translated_all, found_all, verdicts, strict=True
        ):
            row = {
                "id": example["id"],
                "lang": tgt_lang,
                "source": {f: example.get(f) for f in record["fields"]},
                "translation": {f: translated.get(f) for f in record["fields"]},
                "kept": not reasons,
                "reasons": reasons,
            }
            if found is not None:
                row["answer_found"] = found
            rows.append(row)
            if not reasons:
                pairs.append((example, translated))
        extra = {"answer_found": count_found(found_all)} if self.project_answers else {}
        if self.project_answers:  # context sentences left out (translation.drop_failed_pieces)
            dropped = [sum(r.count(DROPPED) for r in (rec.get("finish") or {}).values()) for rec, _ in translated_all]
            extra["pieces_left_out"] = {"pieces": sum(dropped), "examples": sum(n > 0 for n in dropped)}
        return TranslationOutcome(
            lang=tgt_lang,
            translated=TranslatedSet(tgt_lang, src_lang, pairs),
            records=rows,
            counts=count_reasons(verdicts),
            translated_now=0,
            cached=0,
            cache_dir=cache.dir,
            dropped_partial_lines=cache.dropped_partial_lines,
            extra=extra,
        )
