"""Self-translation at fit start: fills the cache, filters, and hands the data to the DataModule
(one ``TranslatedSet`` per language, see ``selftt.translation.handoff``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from selftt.config_checks import MAX_RETRIES, check_range
from selftt.errors import ConfigError
from selftt.modules.engines.settings import EngineSettings
from selftt.modules.generation import GenerationSettings
from selftt.modules.loading import check_model_path, load_causal_lm, load_tokenizer, resolve_dtype
from selftt.translation.answer_projection import check_markers
from selftt.translation.filters import FilterSettings, rejection_summary
from selftt.translation.handoff import TranslationConsumer
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.quality import load_reference_pairs, translation_quality
from selftt.translation.segments import SEGMENTS, Segment
from selftt.translation.shots import check_language, load_shots
from selftt.translation.translator import (
    SelfTranslator,
    TranslatingModel,
    TranslationOutcome,
    TranslationSettings,
)
from selftt.utils.atomic import write_json_atomic, write_jsonl_atomic
from selftt.utils.distributed import Distributed
from selftt.utils.text_log import log_markdown

log = logging.getLogger(__name__)



@dataclass
class QualityReference:
    """A human-translated parallel set to score the model's own translations against."""

    source: str = ""
    """English file (MGSM TSV, XQuAD/SQuAD JSON)."""
    reference: str = ""
    """The same data, human-translated into ``lang`` (parallel line by line or by id)."""
    lang: str = "de"
    """Target language."""
    limit: int | None = 50
    """Score the first N pairs (None: all)."""


class SelfTranslateCallback(Callback):
    """Before the first training batch, the model (adapter off) translates the source examples
    the 'tgt'/'cs' components need into each target language; what the cache already holds is
    reused. Translations are filtered, counted and logged, and given to the DataModule.
    Optionally it scores translation quality (BLEU, chrF) against human references.
    """

    def __init__(
        self,
        cache_dir: str = "cache/translations",
        shots_file: str | None = None,
        prompt: TranslationPrompt = TranslationPrompt(),  # noqa: B008 - plain dataclasses
        generation: GenerationSettings = GenerationSettings(max_new_tokens=512),  # noqa: B008
        max_new_tokens_ratio: float = 3.0,
        max_new_tokens_extra: int = 16,
        filters: FilterSettings = FilterSettings(),  # noqa: B008
        chunk_size: int = 64,
        quality: list[QualityReference] | None = None,
        log_samples: int = 4,
        fields: list[str] | None = None,
        translator_model: str | None = None,
        segment: Segment = "sentence",
        answer_markers: tuple[str, str] | None = ("[", "]"),
        retries: int = 3,
        drop_failed_pieces: float = 0.25,
        engine: EngineSettings = EngineSettings(),  # noqa: B008
    ) -> None:
        """
        Args:
            cache_dir: Folder of the translation cache (one subfolder per model/prompt/decoding/language).
            shots_file: JSON of parallel example pairs per language ({"de": [{"en": ..., "de": ...}]});
                default: the pairs shipped with selftt for de, ru, th, zh.
            prompt: The few-shot prompt: number of shots, template, separator, stop strings.
            generation: Decoding (greedy by default) and batching of translation.
            max_new_tokens_ratio: New-token budget per line = ratio x source tokens + extra.
            max_new_tokens_extra: See max_new_tokens_ratio.
            filters: Which quality filters run, and their thresholds.
            chunk_size: Examples translated between cache writes (what a crash can lose at most).
            quality: Reference sets to score translation quality against (BLEU, chrF per language).
            log_samples: Source/translation pairs shown as text in TensorBoard per language.
            fields: Translate only these fields (default: all the task's translatable fields;
                the others keep their source text).
            translator_model: Translate with this other causal LM (id or folder) instead of the
                model being trained: the translate-train baseline with an external MT model.
            segment: Pieces translated one prompt each: 'sentence' (sentencex, the source
                language's rules), 'line' or 'none' (the whole field); see selftt.translation.segments.
            answer_markers: Extractive QA: [open, close] put around the answer in the source
                context, read back from the translated context (null: none; the translated answer
                is then searched for in the context, exactly and by fuzzy matching).
            retries: Pieces whose translation fails a piece check (echoed source, loop, cut
                off, wrong language, lost question mark, length) are translated again this often,
                each time with other shots of the shots file; 0: never. Default 3: on the first
                5 XQuAD paragraphs (Gemma 3 270M) 3 retries keep 63.5% of German and 39.2% of
                Chinese examples against 40.5% and 17.6% with 1, with the same chrF of the kept
                (+-2.5; benchmarks/self_translation_yield.py --paragraphs 5 --retries N).
            drop_failed_pieces: Extractive QA: up to this share of a context's sentences (pieces)
                whose translation still fails the piece check after the retries are left out of
                the translated context, never the one holding the answer; more failed pieces than
                that: none is left out and the context is judged whole (0: never). A runaway loop
                in one sentence then no longer costs every question of its paragraph.
            engine: The generation engine: ``name: hf`` (default, the model in this process) or
                ``name: vllm`` (a vLLM worker process serving the base model's folder; see
                selftt.modules.engines.settings.EngineSettings and the README's "vLLM" section).

        Raises:
            ConfigError: a setting out of range, naming its ``translation.*`` key.
        """
        prompt.validate("translation.prompt")
        generation.validate("translation.generation")
        engine.validate("translation.engine")
        engine.check_decoding(generation.do_sample, "translation.engine")
        self.engine = engine
        filters.validate("translation.filters")
        check_range("translation.chunk_size", chunk_size)
        check_range("translation.max_new_tokens_ratio", max_new_tokens_ratio)
        if segment not in SEGMENTS:
            raise ConfigError("translation.segment", f"must be one of {', '.join(SEGMENTS)}, got {segment!r}")
        check_markers(answer_markers, "translation.answer_markers")
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise ConfigError("translation.retries", f"must be an integer in [0, {MAX_RETRIES}], got {retries!r}")
        check_range("translation.retries", retries)
        if isinstance(drop_failed_pieces, bool) or not isinstance(drop_failed_pieces, (int, float)):
            raise ConfigError("translation.drop_failed_pieces", f"must be a share in [0, 1), got {drop_failed_pieces!r}")
        check_range("translation.drop_failed_pieces", drop_failed_pieces)
        self.quality = list(quality or [])
        for i, ref in enumerate(self.quality):
            check_language(ref.lang, f"translation.quality[{i}].lang")
        self.settings = TranslationSettings(
            prompt=prompt,
            shots_file=shots_file,
            generation=generation,
            max_new_tokens_ratio=max_new_tokens_ratio,
            max_new_tokens_extra=max_new_tokens_extra,
            filters=filters,
            cache_dir=cache_dir,
            chunk_size=chunk_size,
            fields=list(fields) if fields else None,
            segment=segment,
            answer_markers=tuple(answer_markers) if answer_markers else None,
            retries=retries,
            drop_failed_pieces=float(drop_failed_pieces),
        )
        self.log_samples = log_samples
        self.translator_model = translator_model
        if translator_model:
            check_model_path(translator_model, "translation.translator_model")
        self.outcomes: dict[str, TranslationOutcome] = {}
        self._references: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = []
        """Per quality reference: its (source, reference) pairs and the en->lang shots, read in setup."""
        self.scores: dict[str, dict[str, float]] = {}

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Check languages, shots and the quality reference files before anything is translated:
        bad input fails fast, not after the whole translation has run."""
        if stage != "fit":
            return
        self._references = [
            (load_reference_pairs(ref.source, ref.reference, ref.limit), load_shots(self.settings.shots_file, "en", ref.lang))
            for ref in self.quality
        ]
        datamodule = trainer.datamodule
        if not isinstance(datamodule, TranslationConsumer):
            return
        for i, name in enumerate(self.settings.fields or []):
            datamodule.task.check_field(name, f"translation.fields[{i}]")
            if name not in datamodule.task.translatable:
                raise ConfigError(
                    f"translation.fields[{i}]",
                    f"'{name}' is not translatable text in task '{datamodule.task.name}'; "
                    f"translatable: {', '.join(datamodule.task.translatable)}",
                )
        for request in sorted(datamodule.translation_requests(), key=lambda r: r.component):
            check_language(request.lang, f"{request.key}.lang")
            load_shots(self.settings.shots_file, request.src_lang, request.lang)

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        datamodule = trainer.datamodule
        consumer = datamodule if isinstance(datamodule, TranslationConsumer) else None
        requests = consumer.translation_requests() if consumer is not None else []
        if not requests and not self.quality:
            return
        translator = SelfTranslator(datamodule.task, self.settings)
        dist = Distributed.from_trainer(trainer)
        translating = self.translating_model(pl_module)
        try:
            for request in requests:
                outcome = translator.run(translating, request.examples, request.src_lang, request.lang, dist)
                consumer.add_translated(outcome.translated)
                self.outcomes[request.lang] = outcome
                if dist.is_main:
                    self._write_dataset(outcome)
                    self._log_outcome(trainer, outcome)
            if requests and dist.is_main:
                self._log_metrics(trainer, {f"data/size/{k}": v for k, v in datamodule.component_sizes.items()})
            for ref, (pairs, shots) in zip(self.quality, self._references, strict=True):
                self._score(trainer, translating, translator, ref, pairs, shots, dist)
        finally:
            translating.close()
        del translating

    def translating_model(self, pl_module: LightningModule) -> TranslatingModel:
        """The model that translates: ``translator_model`` where set, loaded like the trained one
        (full precision, no adapter), else the trained module's base model."""
        if not self.translator_model:
            return replace(TranslatingModel.of_module(pl_module), engine=self.engine)
        device = pl_module.device
        key = "translation.translator_model"
        tokenizer = load_tokenizer(self.translator_model, pl_module.trust_remote_code, key)
        dtype = resolve_dtype("auto", device)
        model = load_causal_lm(self.translator_model, "none", device, dtype, pl_module.trust_remote_code, key)
        return TranslatingModel(model, tokenizer, self.translator_model, "none", self.engine)

    # ------------------------------------------------------------------ reporting
    def data_summary(self) -> dict[str, dict]:
        """Per target language translated in this run: ``kept``, ``total``, ``rejected`` (examples
        per filter rule, rules that rejected none left out), ``answer_found`` (QA: answers found
        per method) and ``pieces_left_out`` (QA: failed context sentences left out, and the
        examples they were left out of) — the ``self_translation`` entry of results.json."""
        summary = {}
        for lang, outcome in self.outcomes.items():
            counts = outcome.counts
            entry = {
                "kept": counts["kept"],
                "total": counts["total"],
                "rejected": {rule: n for rule, n in counts.items() if rule not in ("kept", "total") and n},
            }
            if "answer_found" in outcome.extra:
                entry["answer_found"] = dict(outcome.extra["answer_found"])
            if "pieces_left_out" in outcome.extra:
                entry["pieces_left_out"] = dict(outcome.extra["pieces_left_out"])
            summary[lang] = entry
        return summary


    @staticmethod
    def _write_dataset(outcome: TranslationOutcome) -> None:
        write_jsonl_atomic(outcome.cache_dir / "dataset.jsonl", outcome.records)
        write_json_atomic(outcome.cache_dir / "stats.json", {**outcome.counts, **outcome.extra})
        found = outcome.extra.get("answer_found")
        answers = f"; answers found by {rejection_summary(found)}" if found else ""
        left_out = outcome.extra.get("pieces_left_out")
        if left_out and left_out["pieces"]:
            answers += f"; {left_out['pieces']} failed sentences left out of {left_out['examples']} contexts"
        rank_zero_info(
            f"selftt: {outcome.lang}: kept {outcome.counts['kept']} of {outcome.counts['total']} translations "
            f"({outcome.translated_now} translated now, {outcome.cached} from the cache); "
            f"filtered: {rejection_summary(outcome.counts) or 'none'}{answers}; data set: {outcome.cache_dir / 'dataset.jsonl'}"
        )
        if outcome.counts["total"] and not outcome.counts["kept"] and rank_zero_only.rank == 0:
            log.warning(
                "%s: the filters kept none of the %d translations, so this run has no self-translated "
                "(nor code-switched) %s data: it trains on its other components only, which is not "
                "Self-Translate-Train; see why in %s",
                outcome.lang, outcome.counts["total"], outcome.lang, outcome.cache_dir / "dataset.jsonl",
            )  # fmt: skip

    def _log_outcome(self, trainer: Trainer, outcome: TranslationOutcome) -> None:
        lang = outcome.lang
        metrics = {
            f"translation/{lang}/kept": outcome.counts["kept"],
            f"translation/{lang}/total": outcome.counts["total"],
        }
        metrics |= {
            f"translation/{lang}/filtered/{rule}": n
            for rule, n in outcome.counts.items()
            if rule not in ("kept", "total")
        }
        metrics |= {
            f"translation/{lang}/answer_found/{method}": n
            for method, n in outcome.extra.get("answer_found", {}).items()
        }
        if "pieces_left_out" in outcome.extra:
            metrics[f"translation/{lang}/pieces_left_out"] = outcome.extra["pieces_left_out"]["pieces"]
        self._log_metrics(trainer, metrics)
        samples = outcome.records[: self.log_samples]
        if samples:
            rows = ["| id | kept | source | translation |", "|---|---|---|---|"]
            for r in samples:
                source = " / ".join(str(v) for v in r["source"].values()).replace("\n", " ")
                translation = " / ".join(r["translation"].values()).replace("\n", " ")
                rows.append(
                    f"| {r['id']} | {r['kept']} {' '.join(r['reasons'])} | {source} | {translation} |"
                )
            self._log_text(trainer, f"translation/{lang}/samples", "\n".join(rows))

    def _score(
        self,
        trainer: Trainer,
        translating: TranslatingModel,
        translator: SelfTranslator,
        ref: QualityReference,
        pairs: list[tuple[str, str]],
        shots: list[tuple[str, str]],
        dist: Distributed,
    ) -> None:
        mine = [text for text, _ in pairs][dist.rank :: dist.world_size]
        out = translator.translate_texts(translating, mine, "en", ref.lang, shots)
        gathered = dist.gather(out)
        hypotheses = [None] * len(pairs)
        for rank, part in enumerate(gathered):
            hypotheses[rank :: dist.world_size] = part
        if not dist.is_main:
            return
        scores = translation_quality(hypotheses, [reference for _, reference in pairs], ref.lang)
        self.scores[ref.lang] = scores
        self._log_metrics(
            trainer, {f"translation/{ref.lang}/{name}": value for name, value in scores.items()}
        )
        rank_zero_info(
            f"selftt: translation quality en->{ref.lang} on {len(pairs)} pairs of {Path(ref.reference).name}: "
            + ", ".join(f"{k} {v:.1f}" for k, v in scores.items())
        )

    @staticmethod
    def _log_metrics(trainer: Trainer, metrics: dict[str, float]) -> None:
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)

    @staticmethod
    def _log_text(trainer: Trainer, tag: str, text: str) -> None:
        log_markdown(trainer.loggers, tag, text, trainer.global_step)

