"""The LightningDataModule: the training mixture and validation sets, tokenized and length-batched."""

from __future__ import annotations

import logging
from dataclasses import asdict

from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader
from transformers import PreTrainedTokenizerBase

from selftt.config_checks import check_range
from selftt.datamodules.components import DataComponent, EvalSet, check_components
from selftt.datamodules.eval_sets import LoadedEvalSet, load_eval_sets
from selftt.datamodules.mixture import apply_weight, translated_components
from selftt.datamodules.prompting import PromptFormatter, PromptStyle
from selftt.datamodules.sampler import LengthGroupedSampler, ResumableDataLoader
from selftt.datamodules.tokenization import PadCollator, encode_examples
from selftt.errors import ConfigError
from selftt.languages import canonical_code
from selftt.modules.loading import TokenizerSource, load_tokenizer
from selftt.tasks import Example, Task, get_task
from selftt.translation.handoff import TranslatedSet, TranslationRequest

log = logging.getLogger(__name__)


class SelfTTDataModule(LightningDataModule):
    """Builds the training set from named components and the validation sets, for one task.

    Examples become (prompt, target) pairs through the task spec and the prompt format,
    are tokenized with the loss masked on the prompt, and are batched by length.
    """

    def __init__(
        self,
        task: str | dict = "math",
        task_options: dict | None = None,
        components: list[DataComponent] | None = None,
        val_sets: list[EvalSet] | None = None,
        test_sets: list[EvalSet] | None = None,
        val_holdout: int = 0,
        tokenizer: str | PreTrainedTokenizerBase | None = None,
        trust_remote_code: bool = False,
        prompt_style: PromptStyle = "auto",
        max_length: int = 1024,
        batch_size: int = 16,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        predict_chunk: int = 256,
        seed: int = 42,
    ) -> None:
        """
        Args:
            task: Task family: 'math' (GSM8K/MGSM), 'qa' (SQuAD/XQuAD), 'nli' (MultiNLI/XNLI),
                the dotted path of your own ``selftt.tasks.Task`` subclass (``mypkg.tasks.Sentiment``)
                or ``{class_path: ..., init_args: {...}}`` (see ``selftt.tasks.get_task``).
            task_options: Keyword options of the task (e.g. keep_calculator_annotations for math).
            components: The parts of the training mixture (name, path, lang, split, limit).
            val_sets: Validation sets, e.g. the target-language evaluation data.
            test_sets: Sets for ``test`` and ``predict`` (default: the validation sets).
            val_holdout: Hold out the last N examples of the first 'src' component for validation.
            tokenizer: Tokenizer id or folder (the CLI links model.model_name_or_path), or a tokenizer
                object; in a run, the model's own tokenizer object (``TokenizerSource``).
            trust_remote_code: Linked to model.trust_remote_code.
            prompt_style: 'chat' (the tokenizer's chat template), 'plain' (an instruction format)
                or 'auto' (chat when the tokenizer has a template).
            max_length: Longest tokenized prompt + answer; longer pairs are dropped and counted.
            batch_size: Global batch size per optimizer step, across devices and accumulation.
            eval_batch_size: Per-device validation batch size (default: the per-device train batch).
            num_workers: DataLoader worker processes.
            predict_chunk: Prompts handed to the generator at a time in ``predict``.
            seed: Seed of the batch order.
        """
        super().__init__()
        self.save_hyperparameters(ignore=["components", "val_sets", "test_sets", "tokenizer"])
        given = tokenizer if isinstance(tokenizer, PreTrainedTokenizerBase) else None
        self.tokenizer_name = given.name_or_path if given is not None else tokenizer
        self.hparams["tokenizer"] = self.tokenizer_name  # a name: checkpoints load with weights_only
        # Plain types only, so that checkpoints load with torch.load(weights_only=True).
        self.hparams["components"] = [asdict(c) for c in components or []]
        self.hparams["val_sets"] = [asdict(v) for v in val_sets or []]
        self.hparams["test_sets"] = [asdict(v) for v in test_sets or []]
        self.task_options = dict(task_options or {})
        self.components = list(components or [])
        self.val_sets = list(val_sets or [])
        self.test_sets = list(test_sets or [])
        self.val_holdout = val_holdout
        self.trust_remote_code = trust_remote_code
        self.prompt_style = prompt_style
        self.max_length = max_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.predict_chunk = predict_chunk
        self.seed = seed
        self._check_config()
        self.task: Task = get_task(task, "data.task", "data.task_options", **self.task_options)
        self._check_languages()
        self.tokenizer: PreTrainedTokenizerBase | None = given
        self.formatter: PromptFormatter | None = None
        self.train_data: list[dict] = []
        self.val_data: list[list[dict]] = []
        self.val_set_names: list[str] = []
        self.val_sets_loaded: list[LoadedEvalSet] = []
        self.test_sets_loaded: list[LoadedEvalSet] = []
        self.test_data: list[list[dict]] = []
        self.test_set_names: list[str] = []
        self.predict_data: list[dict] = []
        self.component_sizes: dict[str, int] = {}
        self.source_examples: list[Example] = []
        self.source_lang = "en"
        self.pending_translations: set[str] = set()

    # ------------------------------------------------------------------ config
    def _check_config(self) -> None:
        check_components(self.components)
        for key, sets in (("data.val_sets", self.val_sets), ("data.test_sets", self.test_sets)):
            for i, eval_set in enumerate(sets):
                if not eval_set.path:
                    raise ConfigError(f"{key}[{i}].path", "is empty; expected a file or 'hf://' source")
        for key in ("max_length", "batch_size", "eval_batch_size", "num_workers", "predict_chunk", "val_holdout"):
            check_range(f"data.{key}", getattr(self, key))
        if self.tokenizer_name is None:
            raise ConfigError("data.tokenizer", "is not set (the CLI links it to model.model_name_or_path)")

    def _check_languages(self) -> None:
        """Every component's and evaluation set's ``lang`` a language code (BCP 47, put in canonical
        form: ``"ZH"`` -> ``"zh"``); the task warns about a language it has no template for."""
        for i, comp in enumerate(self.components):
            comp.lang = canonical_code(comp.lang, f"data.components[{i}].lang")
            self.task.check_language(comp.lang, f"data.components[{i}].lang")
        for key, sets in (("data.val_sets", self.val_sets), ("data.test_sets", self.test_sets)):
            for i, eval_set in enumerate(sets):
                eval_set.lang = canonical_code(eval_set.lang, f"{key}[{i}].lang")
                self.task.check_language(eval_set.lang, f"{key}[{i}].lang")

    # ------------------------------------------------------------------ setup
    def setup(self, stage: str) -> None:
        if self.formatter is None:
            self.tokenizer = self._shared_tokenizer()
            self.formatter = PromptFormatter(self.tokenizer, self.prompt_style)
        holdout: list[Example] = []
        if stage == "fit":
            self.train_data, holdout = self._build_train_set()
        elif stage == "validate":  # the same held-out set as during fit, without encoding the training set
            holdout = self._load_holdout()
        if stage in ("fit", "validate"):
            self.val_sets_loaded = []
            if holdout:
                self.val_sets_loaded.append(
                    LoadedEvalSet(
                        f"heldout_{holdout[0]['lang']}", holdout[0]["lang"], holdout, key="data.val_holdout"
                    )
                )
            self.val_sets_loaded += load_eval_sets(
                self.task, self.val_sets, "data.val_sets", [s.name for s in self.val_sets_loaded]
            )
            self.val_data = [self._encode(s.examples, s.key, s.name, eval_set=True) for s in self.val_sets_loaded]
            self.val_set_names = [s.name for s in self.val_sets_loaded]
        elif stage == "test":
            self.test_sets_loaded = load_eval_sets(self.task, self._test_sets(), self._test_key(), [])
            self.test_data = [self._encode(s.examples, s.key, s.name, eval_set=True) for s in self.test_sets_loaded]
            self.test_set_names = [s.name for s in self.test_sets_loaded]
        elif stage == "predict":
            self.test_sets_loaded = load_eval_sets(self.task, self._test_sets(), self._test_key(), [])
            self.predict_data = [
                self._prompt_item(example, s) for s in self.test_sets_loaded for example in s.examples
            ]

    def _shared_tokenizer(self) -> PreTrainedTokenizerBase:
        """The tokenizer given, else the trained model's own object, else one loaded from ``tokenizer``."""
        if self.tokenizer is not None:
            return self.tokenizer
        module = self.trainer.lightning_module if isinstance(self.trainer, Trainer) else None
        if isinstance(module, TokenizerSource):
            if str(self.tokenizer_name) == str(module.model_name_or_path):
                return module.shared_tokenizer()
            raise ConfigError("data.tokenizer", f"'{self.tokenizer_name}' is not the model's, '{module.model_name_or_path}'")
        return load_tokenizer(self.tokenizer_name, self.trust_remote_code)

    def _test_sets(self) -> list[EvalSet]:
        if not (self.test_sets or self.val_sets):
            raise ConfigError(
                "data.test_sets", "is empty (and so is data.val_sets); expected a set to test on"
            )
        return self.test_sets or self.val_sets

    def _test_key(self) -> str:
        return "data.test_sets" if self.test_sets else "data.val_sets"

    def eval_prompt(self, example: Example, shots: list[Example] = ()) -> str:
        """The generation prompt for ``example``, after the set's in-context examples."""
        pairs = [(self.task.instruction(s), self.task.target(s)) for s in shots]
        return self.formatter.prompt(self.task.instruction(example), pairs)

    def generation_eval_sets(self, stage: str) -> list[LoadedEvalSet]:
        """The sets to evaluate by generation in ``stage`` ('val' or 'test')."""
        return self.val_sets_loaded if stage == "val" else self.test_sets_loaded

    def eval_set_names(self, stage: str) -> list[str]:
        """Names of the loss-evaluated sets of ``stage`` ('val' or 'test'), in dataloader order."""
        return self.val_set_names if stage == "val" else self.test_set_names

    def _prompt_item(self, example: Example, eval_set: LoadedEvalSet) -> dict:
        return {
            "id": example["id"],
            "set": eval_set.name,
            "lang": example["lang"],
            "prompt": self.eval_prompt(example, eval_set.shots),
            "target": self.task.target(example),
            "add_special_tokens": self.formatter.add_special_tokens,
            "stop": self.formatter.stop_strings(),
            "max_new_tokens": eval_set.max_new_tokens,
        }

    def _build_train_set(self) -> tuple[list[dict], list[Example]]:
        """Encode the 'src' components; 'tgt' and 'cs' wait for ``add_translated``."""
        if not self.components:
            raise ConfigError(
                "data.components", "is empty; expected at least one 'src' component to train on"
            )
        train: list[dict] = []
        holdout: list[Example] = []
        self.component_sizes = {}  # setup("fit") may run more than once
        self.source_examples = []
        for i, comp in enumerate(self.components):
            if comp.name != "src":
                continue
            key = f"data.components[{i}]"
            examples = self.task.load(comp.path, comp.lang, split=comp.split)
            if not holdout and self.val_holdout:
                examples, holdout = self._split_holdout(examples, comp)
            examples = examples[: comp.limit] if comp.limit else examples
            if not self.source_examples:
                self.source_examples, self.source_lang = examples, comp.lang
            train += self._encode_component(examples, comp, key)
        self.pending_translations = {c.lang for c in self.components if c.name != "src"}
        self._report(train)
        return train, holdout

    def _encode_component(self, examples: list[Example], comp: DataComponent, key: str) -> list[dict]:
        """Cap, weight and encode one component's examples, and count them."""
        examples = examples[: comp.limit] if comp.limit and comp.name != "src" else examples
        examples = apply_weight(examples, comp.weight, self.seed)
        encoded = self._encode(examples, key, comp.path or f"{comp.name}:{comp.lang}") if examples else []
        for item in encoded:
            item["component"] = comp.name
        label = comp.name if comp.name == "src" else f"{comp.name}_{comp.lang}"
        self.component_sizes[label] = self.component_sizes.get(label, 0) + len(encoded)
        return encoded

    def _report(self, train: list[dict]) -> None:
        sizes = ", ".join(f"{k}={v}" for k, v in self.component_sizes.items())
        pending = f"; waiting for self-translation into {', '.join(sorted(self.pending_translations))}"
        rank_zero_info(
            f"selftt: training mixture for task '{self.task.name}': {sizes} ({len(train)} examples)"
            + (pending if self.pending_translations else "")
        )

    # ------------------------------------------------------------------ self-translation
    def translation_requests(self) -> list[TranslationRequest]:
        """One request per target language still to translate for the 'tgt'/'cs' components,
        by language (``TranslationConsumer``)."""
        first = {c.lang: i for i, c in reversed(list(enumerate(self.components))) if c.name != "src"}
        return [
            TranslationRequest(lang, self.source_lang, self.source_examples, first[lang])
            for lang in sorted(self.pending_translations)
        ]

    def add_translated(self, translated: TranslatedSet) -> None:
        """Build the 'tgt' and 'cs' components of ``translated.lang`` from its kept translations."""
        for i, comp, examples in translated_components(self.task, self.components, translated):
            self.train_data += self._encode_component(examples, comp, f"data.components[{i}]")
        self.pending_translations.discard(translated.lang)
        if not self.pending_translations:
            self._report(self.train_data)

    def _split_holdout(
        self, examples: list[Example], comp: DataComponent
    ) -> tuple[list[Example], list[Example]]:
        """(training part, held-out last ``val_holdout`` examples) of a 'src' component."""
        if self.val_holdout >= len(examples):
            raise ConfigError(
                "data.val_holdout",
                f"{self.val_holdout} held-out examples leave none of the {len(examples)} in {comp.path}",
            )
        return examples[: -self.val_holdout], examples[-self.val_holdout :]

    def _load_holdout(self) -> list[Example]:
        """The held-out examples of the first 'src' component alone (validating without fit)."""
        if not self.val_holdout:
            return []
        for comp in self.components:
            if comp.name == "src":
                return self._split_holdout(self.task.load(comp.path, comp.lang, split=comp.split), comp)[1]
        return []

    def _encode(self, examples: list[Example], key: str, source: str, eval_set: bool = False) -> list[dict]:
        return encode_examples(
            examples, self.task, self.formatter, self.tokenizer, self.max_length, key=key, source=source,
            eval_set=eval_set,
        )  # fmt: skip

    # ------------------------------------------------------------------ loaders
    def per_device_batch_size(self) -> int:
        """``batch_size`` split over devices and gradient-accumulation steps."""
        world = self.trainer.world_size if self.trainer is not None else 1
        accumulate = self.trainer.accumulate_grad_batches if self.trainer is not None else 1
        parts = world * accumulate
        if self.batch_size % parts:
            raise ConfigError(
                "data.batch_size",
                f"{self.batch_size} is not divisible by devices x accumulate_grad_batches = {world} x {accumulate}",
            )
        return self.batch_size // parts

    def _loader(self, data: list[dict], batch_size: int, shuffle: bool) -> DataLoader:
        trainer = self.trainer
        sampler = LengthGroupedSampler(
            [len(item["input_ids"]) for item in data],
            batch_size,
            num_replicas=trainer.world_size if trainer is not None else 1,
            rank=trainer.global_rank if trainer is not None else 0,
            shuffle=shuffle,
            seed=self.seed,
            pad=shuffle,  # evaluation counts every example exactly once
        )
        kwargs = dict(
            batch_size=batch_size,
            sampler=sampler,
            collate_fn=PadCollator(self.tokenizer.pad_token_id),
            num_workers=self.num_workers,
        )
        if shuffle:  # training: resumable mid-epoch
            return ResumableDataLoader(data, progress=self._train_batches_done, **kwargs)
        return DataLoader(data, **kwargs)

    def _train_batches_done(self) -> int:
        return self.trainer.fit_loop.epoch_loop.batch_progress.current.ready if self.trainer else 0

    def train_dataloader(self) -> DataLoader:
        if self.pending_translations:
            raise ConfigError(
                "translation",
                f"components for {', '.join(sorted(self.pending_translations))} need self-translation, which "
                "SelfTranslateCallback does at fit start (the CLI adds it; in Python, pass it to the Trainer)",
            )
        if not self.train_data:
            raise ConfigError(
                "data.components", "the training mixture is empty (every translation was filtered out?)"
            )
        return self._loader(self.train_data, self.per_device_batch_size(), shuffle=True)

    def _eval_batch_size(self) -> int:
        return self.eval_batch_size or self.per_device_batch_size()

    def val_dataloader(self) -> list[DataLoader]:
        return [self._loader(data, self._eval_batch_size(), shuffle=False) for data in self.val_data]

    def test_dataloader(self) -> list[DataLoader]:
        return [self._loader(data, self._eval_batch_size(), shuffle=False) for data in self.test_data]

    def predict_dataloader(self) -> DataLoader:
        """Prompts of the test sets (or the validation sets) in chunks; Lightning shards them
        across ranks without repeats. The generator batches each chunk again by length."""
        return DataLoader(self.predict_data, batch_size=self.predict_chunk, collate_fn=list)
