"""Malformed inputs end with one readable ``selftt: error`` line, exit status 2, and touch nothing.

Each case spoils one input (a data file, a config value, an asset) and runs ``python -m selftt``
on it. The run must exit with status 2, and stderr must end with the only ``selftt: error`` line
(no traceback), which names the file (and line) or the config key and what was expected. A real
previous run (logs, checkpoints, translation cache) is copied in first: afterwards each of its
files has the same bytes and mtime. An error found while the config is parsed must leave nothing
new behind, not even a run folder; one found when the data, assets or model load (after Lightning
has made the run folder) must write no checkpoint, adapter or translation.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

TINY_MODEL = Path(__file__).resolve().parents[1] / "assets" / "tiny-llama"
GOOD = {
    "question": "Tom has 2 apples and gets 3 more. How many apples has he?",
    "answer": "2 + 3 = 5\n#### 5",
}
CONTEXT = "Anna lives in Berlin. She works in Hamburg."
TRANSLATION = {"prompt": {"n_shots": 2}, "generation": {"max_new_tokens": 8}, "chunk_size": 4}
"""Translation settings of the previous run: a config with the same ones reuses its cache."""


# ----------------------------------------------------------------------------- the previous run


PREVIOUS_LORA = {"r": 2, "alpha": 4, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
"""The LoRA setting of the previous run every case starts from."""


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory, run_selftt) -> Path:
    """A finished fit (LoRA r=2 on q_proj/v_proj; src + self-translated de): logs, checkpoints, cache."""
    root = tmp_path_factory.mktemp("previous_run")
    data = root / "train.jsonl"
    data.write_text("".join(json.dumps({**GOOD, "id": f"p{i}"}) + "\n" for i in range(8)), encoding="utf-8")
    logger = {"save_dir": str(root / "logs"), "name": "run"}
    off = dict.fromkeys(("empty", "untranslated", "length_ratio", "repetition", "script", "numbers"), False)
    config = {
        "trainer": {
            "accelerator": "cpu",
            "max_steps": 1,
            "enable_model_summary": False,
            "logger": {"class_path": "lightning.pytorch.loggers.TensorBoardLogger", "init_args": logger},
        },
        "model": {
            "model_name_or_path": str(TINY_MODEL),
            "quantization": "none",
            "lora": PREVIOUS_LORA,
        },
        "data": {
            "task": "math",
            "components": [{"name": "src", "path": str(data), "lang": "en"}, {"name": "tgt", "lang": "de"}],
            "batch_size": 4,
            "max_length": 256,
        },
        "translation": {"cache_dir": str(root / "cache"), "filters": off, **TRANSLATION},
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_selftt(["fit", "--config", str(root / "config.yaml")], cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (root / "logs" / "run" / "version_0" / "checkpoints" / "last.ckpt").is_file()
    assert list((root / "cache").glob("*/part-*.jsonl"))
    return root


@dataclass
class Ctx:
    """One case's folder (a copy of the previous run) and helpers to write its bad inputs."""

    tmp: Path
    write_config: Callable[..., Path]
    math_file: Path
    mgsm_file: Path
    no_filters: dict
    expect: list[str] = field(default_factory=list)
    """Text the error line must hold that is known only once the case has written its files."""
    pythonpath: Path | None = None
    """A folder to put first on the command's PYTHONPATH (a fake package)."""
    exclude: set[Path] = field(default_factory=set)
    """The configs the case writes (left out of the snapshot)."""

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    def config(self, val_sets: tuple | list = (), **sections) -> list[str]:
        """``--config`` of the standard small fit config with ``sections`` merged in."""
        path = self.write_config(val_sets=val_sets, extra=sections)
        self.exclude.add(path)
        return ["--config", str(path)]

    def src(self, path: Path, task: str = "math", **data) -> list[str]:
        """A config training on ``path`` alone (no held-out examples)."""
        component = {"name": "src", "path": str(path), "lang": "en"}
        return self.config(data={"task": task, "components": [component], "val_holdout": 0, **data})

    def stt(self, **translation) -> list[str]:
        """A config with the math file as 'src' plus its self-translation into German."""
        components = [
            {"name": "src", "path": str(self.math_file), "lang": "en"},
            {"name": "tgt", "lang": "de"},
        ]
        settings = {"filters": self.no_filters, **TRANSLATION, **translation}
        return self.config(data={"components": components}, translation=settings)


@pytest.fixture
def ctx(tmp_path, previous_run, write_config, math_file, mgsm_file, no_filters) -> Ctx:
    for name in ("logs", "cache"):
        shutil.copytree(previous_run / name, tmp_path / name)
    return Ctx(tmp_path, write_config, math_file, mgsm_file, no_filters)


def snapshot(root: Path, exclude: set[Path]) -> dict[str, tuple[str, int] | None]:
    """Every file under ``root`` but ``exclude`` -> (sha256 of its bytes, mtime in ns); folders -> None."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        if p.is_file()
        else None
        for p in sorted(root.rglob("*"))
        if p not in exclude
    }


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th ``needle`` in ``text``."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


# ----------------------------------------------------------------------------- spoilers


def jsonl(ctx: Ctx, *rows: dict | str) -> list[str]:
    """A math training file of ``rows`` (a dict per JSON line, or a line's raw text)."""
    text = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    return ctx.src(ctx.file("bad.jsonl", text))


def squad(ctx: Ctx, *qas: dict, at: int) -> list[str]:
    """A one-paragraph SQuAD file with ``qas``; the error must name the line of question ``at``'s id."""
    doc = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": CONTEXT, "qas": list(qas)}]}]}
    text = json.dumps(doc, indent=1)
    ids = [json.dumps(q["id"]) for q in qas]
    ctx.expect.append(f"squad.json:{line_of(text, ids[at], ids[: at + 1].count(ids[at]))}:")
    return ctx.src(ctx.file("squad.json", text), task="qa")


def qa(qa_id: str, answer: str = "Berlin", start: int | None = None) -> dict:
    start = CONTEXT.index(answer) if start is None else start
    return {"id": qa_id, "question": "Where?", "answers": [{"text": answer, "answer_start": start}]}


def mgsm(ctx: Ctx, text: str) -> list[str]:
    """An MGSM-format validation set (German) with ``text`` as its rows."""
    return ctx.config(val_sets=[{"path": str(ctx.file("mgsm_bad.tsv", text)), "lang": "de"}])


def no_bitsandbytes(ctx: Ctx) -> list[str]:
    """A ``bitsandbytes`` on PYTHONPATH that cannot be imported, as where it cannot run."""
    fake = ctx.tmp / "fake_site" / "bitsandbytes"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("simulated: no bitsandbytes build here")\n')
    ctx.pythonpath = fake.parent
    return ctx.config(model={"quantization": "4bit"})


def damaged_cache(ctx: Ctx) -> list[str]:
    """Line 3 of the previous run's cache part cut short (a complete line that is not JSON)."""
    part = next((ctx.tmp / "cache").glob("*/part-*.jsonl"))
    lines = part.read_bytes().split(b"\n")
    lines[2] = lines[2][: len(lines[2]) // 2]
    part.write_bytes(b"\n".join(lines))
    ctx.expect.append(f"{part}:3: the translation cache is damaged")
    return ctx.stt()


def edited_checkpoint(ctx: Ctx, edit: Callable[[dict], object], **config) -> list[str]:
    """Resume from a copy of the previous run's last.ckpt (LoRA r=2 on q_proj/v_proj) changed by ``edit``."""
    import torch

    checkpoint = torch.load(ctx.tmp / "logs/run/version_0/checkpoints/last.ckpt", weights_only=True)
    edit(checkpoint)
    path = ctx.tmp / "edited.ckpt"
    torch.save(checkpoint, path)
    ctx.expect.append(str(path))
    return [*ctx.config(**config), "--ckpt_path", str(path)]


def unchanged(checkpoint: dict) -> None:
    """The previous run's checkpoint as it is (its recorded hyperparameters, which Lightning would
    otherwise let replace the config's LoRA settings, r=4 on every linear layer, silently)."""


def without_v_proj(checkpoint: dict) -> None:
    """The adapter lacks weights of the LoRA setting it records (v_proj)."""
    checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if "v_proj" not in k}


def latin1(ctx: Ctx) -> list[str]:
    """Line 2 saved as latin-1 in a UTF-8 file."""
    second = json.dumps({**GOOD, "question": "Café?"}, ensure_ascii=False).encode("latin-1")
    return ctx.src(ctx.file("bad.jsonl", (json.dumps(GOOD) + "\n").encode() + second))


def squad_raw(ctx: Ctx, text: str) -> list[str]:
    return ctx.src(ctx.file("squad.json", text), task="qa")


def components(ctx: Ctx, *extra: dict) -> list[str]:
    """The math file as 'src', then ``extra`` components."""
    return ctx.config(data={"components": [{"path": str(ctx.math_file)}, *extra]})


def resume(ctx: Ctx, ckpt: Path) -> list[str]:
    return [*ctx.config(), "--ckpt_path", str(ckpt)]


@dataclass
class Case:
    id: str
    spoil: Callable[[Ctx], list[str]]
    """Writes the bad input; returns the arguments after the subcommand."""
    expected: tuple[str, ...]
    """Text the error line holds; ``{tmp}`` is the case's folder."""
    found: str = "parse"
    """'parse': refused while the config is parsed, so nothing may be written at all; 'load':
    found when the data, assets or model load, so no checkpoint, adapter or translation."""
    command: str = "fit"


def truncated_model(ctx: Ctx) -> Path:
    """A copy of the tiny model whose model.safetensors stops halfway (an interrupted download)."""
    folder = ctx.tmp / "cut-model"
    shutil.copytree(TINY_MODEL, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    return folder


def bad(case_id: str, spoil: Callable[[Ctx], list[str]], *expected: str, found="load", command="fit"):
    return Case(case_id, spoil, expected, found, command)


BROKEN_YAML = "data:\n  task: math\n batch_size: 4\n"  # line 3 is indented by one space
SQUAD_NO_COMMA = '{"data": [\n {"title": "t"\n  "paragraphs": []}]}'
SQUAD_CONTEXT_7 = json.dumps({"data": [{"paragraphs": [{"context": 7, "qas": [qa("q1")]}]}]})
SHOTS_RU = json.dumps({"ru": [{"en": "Hello.", "ru": "Привет."}]})
SHOTS_NO_COMMA = '{"de": [\n {"en": "Hi." "de": "Hallo."}]}'
NOISE = random.Random(0).randbytes(4096)
TSV_SIEBEN = "Wie viele?\t7\nUnd jetzt?\tsieben\n"
TSV_NO_TAB = "Wie viele?\t7\nUnd jetzt? 8\n"
NOT_A_FOLDER = (
    "config key 'model.adapter_path': '{tmp}/math_train.jsonl' is not a folder holding a PEFT adapter"
)
NO_BNB = (
    "config key 'model.quantization': 4bit was asked for, but bitsandbytes cannot train a 4-bit layer on cpu"
)
LORA_ERROR = "lacks 4 adapter weights"
DUPLICATE_KEY_YAML = "data:\n  task: math\n  batch_size: 4\n  batch_size: 8\n"

# fmt: off
CASES = [
    # data files: found when the data loads, after Lightning made the run folder
    bad("jsonl-truncated-line", lambda c: jsonl(c, GOOD, GOOD, json.dumps(GOOD)[:30]),
        "{tmp}/bad.jsonl:3: malformed JSON"),
    bad("jsonl-question-is-a-number", lambda c: jsonl(c, GOOD, {**GOOD, "question": 42}),
        "bad.jsonl:2: field 'question' must be a string, got number 42"),
    bad("jsonl-question-is-a-list", lambda c: jsonl(c, {**GOOD, "question": ["How", "many?"]}),
        'bad.jsonl:1: field \'question\' must be a string, got array ["How", "many?"]'),
    bad("jsonl-missing-field", lambda c: jsonl(c, GOOD, {"question": "How many?"}),
        "bad.jsonl:2: missing field 'answer'; the record has: question"),
    bad("jsonl-line-not-an-object", lambda c: jsonl(c, GOOD, "[1, 2]"),
        "bad.jsonl:2: expected a JSON object, got array"),
    bad("jsonl-empty-file", lambda c: jsonl(c), "{tmp}/bad.jsonl: no examples (the data set is empty)"),
    bad("jsonl-latin-1-bytes", latin1,
        "bad.jsonl:2: not valid UTF-8 text (byte 0xe9); save the file as UTF-8"),
    bad("gsm8k-answer-without-final-number", lambda c: jsonl(c, GOOD, {**GOOD, "answer": "2 + 3 = 5"}),
        "bad.jsonl:2: answer has no '#### <number>' final answer (GSM8K format)"),
    bad("jsonl-duplicate-ids", lambda c: jsonl(c, {**GOOD, "id": "a"}, GOOD, {**GOOD, "id": "a"}),
        "bad.jsonl:3: duplicate example id 'a' (first at line 1)"),
    bad("data-path-does-not-exist", lambda c: c.src(c.tmp / "no_such.jsonl"),
        "{tmp}/no_such.jsonl: file not found"),
    bad("data-file-of-unknown-type", lambda c: c.src(c.file("train.csv", "question,answer\n")),
        "train.csv: unsupported file type '.csv'; expected one of .jsonl, .tsv"),
    bad("squad-invalid-json", lambda c: squad_raw(c, SQUAD_NO_COMMA),
        "{tmp}/squad.json:3: malformed JSON: Expecting ',' delimiter"),
    bad("squad-answer-start-off", lambda c: squad(c, qa("q1"), qa("q2", "Hamburg", start=3), at=1),
        "qa 'q2': answer_start 3 does not point at the answer 'Hamburg' in the context (found 'a l"),
    bad("squad-duplicate-question-ids", lambda c: squad(c, qa("q1"), qa("q2"), qa("q1"), at=2),
        "duplicate example id 'q1' (first at line"),
    bad("squad-context-not-text", lambda c: squad_raw(c, SQUAD_CONTEXT_7),
        "squad.json:1: article 0, paragraph 0: 'context' must be a string, got number"),
    bad("mgsm-answer-not-a-number", lambda c: mgsm(c, TSV_SIEBEN),
        "{tmp}/mgsm_bad.tsv:2: answer 'sieben' is not a number", command="validate"),
    bad("mgsm-row-without-answer-column", lambda c: mgsm(c, TSV_NO_TAB),
        "mgsm_bad.tsv:2: expected 2 tab-separated columns (question, answer_number), got 1",
        command="validate"),
    bad("holdout-larger-than-the-data", lambda c: c.config(data={"val_holdout": 100}),
        "config key 'data.val_holdout': 100 held-out examples leave none of the 24"),
    # configs: refused while parsing, before any run folder
    bad("yaml-unknown-key", lambda c: c.config(data={"shuffle": True}), "'data.shuffle'", found="parse"),
    bad("yaml-wrong-type", lambda c: c.config(data={"batch_size": "four"}),
        "config key 'data.batch_size': expected a 'int'. Got value: four", found="parse"),
    bad("batch-size-zero", lambda c: c.config(data={"batch_size": 0}),
        "config key 'data.batch_size': must be >= 1, got 0", found="parse"),
    bad("lora-r-zero", lambda c: c.config(model={"lora": {"r": 0}}),
        "config key 'model.lora.r': must be >= 1, got 0", found="parse"),
    bad("lora-r-negative", lambda c: c.config(model={"lora": {"r": -2}}),
        "config key 'model.lora.r': must be >= 1, got -2", found="parse"),
    bad("learning-rate-negative", lambda c: c.config(model={"optimizer": {"init_args": {"lr": -0.01}}}),
        "config key 'model.optimizer.init_args.lr': must be >= 0, got -0.01 (AdamW: Invalid learning rate"),
    bad("unknown-language-code", lambda c: c.config(data={"components": [{"path": "x.jsonl", "lang": "xx"}]}),
        "config key 'data.components[0].lang': 'xx' is not a known language code (BCP 47 / ISO 639",
        found="parse"),
    bad("linked-key-in-config", lambda c: c.config(data={"tokenizer": "gpt2"}),
        "config key 'data.tokenizer': is tied to model.model_name_or_path", found="parse"),
    bad("unknown-task", lambda c: c.config(data={"task": "poetry"}),
        "config key 'data.task': unknown task 'poetry'; expected one of math, nli, qa", found="parse"),
    bad("model-path-does-not-exist", lambda c: c.config(model={"model_name_or_path": str(c.tmp / "nope")}),
        "config key 'model.model_name_or_path': model path '{tmp}/nope' does not exist", found="parse"),
    bad("model-weights-truncated", lambda c: c.config(model={"model_name_or_path": str(truncated_model(c))}),
        "config key 'model.model_name_or_path': could not load a causal LM from '{tmp}/cut-model': "
        "a .safetensors weights file is damaged or incomplete"),
    bad("yaml-syntax-error", lambda c: ["--config", str(c.file("broken.yaml", BROKEN_YAML))],
        "{tmp}/broken.yaml:3: not valid YAML: while parsing a block mapping: expected <block end>",
        found="parse"),
    bad("config-file-does-not-exist", lambda c: ["--config", str(c.tmp / "missing.yaml")],
        "{tmp}/missing.yaml: config file not found", found="parse"),
    bad("4bit-where-bitsandbytes-cannot-run", no_bitsandbytes,
        NO_BNB, "(ImportError: simulated: no bitsandbytes build here); use 'none' or 'auto'"),
    bad("unknown-component-name", lambda c: components(c, {"name": "trg", "lang": "de"}),
        "config key 'data.components[1].name': unknown component 'trg'; expected one of src, tgt, cs",
        found="parse"),
    bad("unknown-cs-direction", lambda c: components(c, {"name": "cs", "lang": "de", "direction": "de-en"}),
        "config key 'data.components[1].direction': got 'de-en'; expected one of tgt-src, src-tgt",
        found="parse"),
    bad("eval-set-bad-language-code", lambda c: c.config(val_sets=[{"path": str(c.mgsm_file), "lang": "french"}]),
        "config key 'data.val_sets[0].lang': 'french' is not a language code (BCP 47",
        found="parse"),
    # assets
    bad("shots-file-without-the-language", lambda c: c.stt(shots_file=str(c.file("shots.json", SHOTS_RU))),
        "{tmp}/shots.json: shots file has no pairs for 'de'", command="translate"),
    bad("shots-file-not-json", lambda c: c.stt(shots_file=str(c.file("shots.json", SHOTS_NO_COMMA))),
        "{tmp}/shots.json:2: shots file is not valid JSON (Expecting ',' delimiter)", command="translate"),
    bad("translation-cache-damaged", damaged_cache, "delete this file to translate its examples again",
        command="translate"),
    bad("checkpoint-random-bytes", lambda c: resume(c, c.file("noise.ckpt", NOISE)),
        "{tmp}/noise.ckpt: ", "corrupt", found="parse"),
    bad("checkpoint-does-not-exist", lambda c: resume(c, c.tmp / "no_such.ckpt"),
        "{tmp}/no_such.ckpt: checkpoint file not found", found="parse"),
    bad("checkpoint-of-another-lora-setting", lambda c: edited_checkpoint(c, unchanged),
        "written with LoRA settings {'r': 2,", "but model.lora is {'r': 4,", found="parse"),
    bad("checkpoint-missing-adapter-weights",
        lambda c: edited_checkpoint(c, without_v_proj, model={"lora": PREVIOUS_LORA}), LORA_ERROR),
    bad("adapter-path-not-a-folder", lambda c: c.config(model={"adapter_path": str(c.math_file)}),
        NOT_A_FOLDER, found="parse"),
    # ---- issue 13, config side (selftt/config_checks.py): numbers, folders, YAML, --ckpt_path
    bad("config-ratio-nan", lambda c: c.stt(max_new_tokens_ratio=float("nan")),
        "config key 'translation.max_new_tokens_ratio': must be a finite number, got nan", found="parse"),
    bad("config-lr-infinite", lambda c: c.config(model={"optimizer": {"init_args": {"lr": float("inf")}}}),
        "config key 'model.optimizer.init_args.lr': must be a finite number, got inf", found="parse"),
    bad("config-filter-threshold-nan", lambda c: c.stt(filters={**c.no_filters, "min_script_fraction": float("nan")}),
        "config key 'translation.filters.min_script_fraction': must be a finite number, got nan", found="parse"),
    bad("config-eval-batch-size-negative", lambda c: c.config(data={"eval_batch_size": -1}),
        "config key 'data.eval_batch_size': must be >= 1, got -1", found="parse"),
    bad("config-accumulate-grad-batches-zero", lambda c: c.config(trainer={"accumulate_grad_batches": 0}),
        "config key 'trainer.accumulate_grad_batches': must be >= 1, got 0", found="parse"),
    bad("config-every-n-train-steps-negative", lambda c: c.config(checkpoint={"every_n_train_steps": -1}),
        "config key 'checkpoint.every_n_train_steps': must be >= 0, got -1", found="parse"),
    bad("config-cache-dir-is-a-file", lambda c: c.stt(cache_dir=str(c.math_file)),
        "config key 'translation.cache_dir': '{tmp}/math_train.jsonl' is a file, not a folder", found="parse"),
    bad("config-logger-save-dir-is-a-file",
        lambda c: c.config(trainer={"logger": {"init_args": {"save_dir": str(c.math_file)}}}),
        "config key 'trainer.logger.init_args.save_dir': '{tmp}/math_train.jsonl' is a file", found="parse"),
    bad("config-default-root-dir-is-a-file", lambda c: c.config(trainer={"default_root_dir": str(c.math_file)}),
        "config key 'trainer.default_root_dir': '{tmp}/math_train.jsonl' is a file", found="parse"),
    bad("config-folder-cannot-be-created", lambda c: c.stt(cache_dir=str(c.math_file / "cache")),
        "config key 'translation.cache_dir': folder '{tmp}/math_train.jsonl/cache' cannot be created: "
        "'{tmp}/math_train.jsonl' is a file", found="parse"),
    bad("report-out-is-a-file", lambda c: ["--logs", str(c.tmp / "logs"), "--out", str(c.math_file)],
        "selftt: error: --out: '{tmp}/math_train.jsonl' is a file, not a folder", found="parse", command="report"),
    bad("yaml-key-written-twice", lambda c: ["--config", str(c.file("twice.yaml", DUPLICATE_KEY_YAML))],
        "{tmp}/twice.yaml:4: key 'batch_size' is written twice (first at line 3", found="parse"),
    bad("section-file-key-written-twice",
        lambda c: [*c.config(), "--data", str(c.file("data.yml", "task: math\nval_holdout: 0\nval_holdout: 2\n"))],
        "{tmp}/data.yml:3: key 'val_holdout' is written twice (first at line 2", found="parse"),
    bad("section-file-empty", lambda c: [*c.config(), "--trainer=" + str(c.file("trainer.yaml", "# nothing\n"))],
        "{tmp}/trainer.yaml: the file given to --trainer is empty", found="parse"),
    bad("config-file-empty", lambda c: ["--config", str(c.file("empty.yaml", ""))],
        "{tmp}/empty.yaml: the config file is empty; it must set at least model.model_name_or_path",
        found="parse"),
    bad("ckpt-path-is-a-directory", lambda c: resume(c, c.tmp / "logs/run/version_0"),
        "{tmp}/logs/run/version_0: --ckpt_path is a directory, not a checkpoint file; give one of: ",
        "{tmp}/logs/run/version_0/checkpoints/last.ckpt", found="parse"),
    # ---- end of issue 13, config side
    # ---- issue 13, data side (selftt/tasks, datamodules/eval_sets.py, translation/shots.py)
    bad("squad-question-only-whitespace", lambda c: squad(c, qa("q1"), {**qa("q2"), "question": "  "}, at=1),
        "field 'question' is only whitespace"),
    bad("squad-answer-empty", lambda c: squad(c, qa("q1"), qa("q2", "", start=0), at=1),
        "qa 'q2': answer 0 is empty"),
    bad("nli-hypothesis-empty",
        lambda c: c.src(c.file("nli.jsonl", '{"premise": "A cat.", "hypothesis": "An animal.", "label": 0}\n'
                                            '{"premise": "A cat.", "hypothesis": "", "label": 1}\n'), task="nli"),
        "{tmp}/nli.jsonl:2: field 'hypothesis' is empty"),
    bad("squad-answer-start-negative", lambda c: squad(c, qa("q1"), qa("q2", "Hamburg", start=-8), at=1),
        "qa 'q2': answer_start -8 is negative"),
    bad("gsm8k-two-final-answers", lambda c: jsonl(c, GOOD, {**GOOD, "answer": "2 + 3 = 5\n#### 5\n#### 6"}),
        "{tmp}/bad.jsonl:2: answer has 2 '####' final answers ('5', '6')"),
    bad("eval-set-limit-zero", lambda c: c.config(val_sets=[{"path": str(c.mgsm_file), "lang": "de", "limit": 0}]),
        "config key 'data.val_sets[0].limit': must be >= 1, got 0", command="validate", found="parse"),
    bad("shots-pair-not-translated",
        lambda c: c.stt(shots_file=str(c.file("shots.json", json.dumps(
            {"de": [{"en": "Hello.", "de": "Hallo."}, {"en": "How old is she?", "de": "how old is she?"}]})))),
        "{tmp}/shots.json: shot 1 for 'de': the 'en' and 'de' sides are the same text", command="translate"),
    bad("jsonl-nested-too-deeply", lambda c: jsonl(c, GOOD, '{"question": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "{tmp}/bad.jsonl:2: JSON nested too deeply"),
    # ---- end of issue 13, data side
    # ---- issue 12: sentence-level translation, answer markers, retries, new filter thresholds
    bad("config-segment-unknown", lambda c: c.stt(segment="paragraph"),
        "config key 'translation.segment': ", "paragraph", found="parse"),
    bad("config-answer-markers-one-string", lambda c: c.stt(answer_markers=["[", "[["]),
        "config key 'translation.answer_markers': must be [open, close]", found="parse"),
    bad("quality-reference-missing", lambda c: c.stt(quality=[
        {"source": str(c.mgsm_file), "reference": str(c.tmp / "missing_de.tsv"), "lang": "de"}]),
        "{tmp}/missing_de.tsv"),  # found before anything is translated (no cache part written)
    bad("config-filters-null", lambda c: c.stt(filters=None),
        "config key 'translation.filters': must be a mapping of its settings (key: value), got null", found="parse"),
    bad("config-prompt-a-list", lambda c: c.stt(prompt=[2]),
        "config key 'translation.prompt': must be a mapping of its settings", found="parse"),
    bad("config-retries-too-many", lambda c: c.stt(retries=1000000),
        "config key 'translation.retries': must be in [0, 16], got 1000000", found="parse"),
    bad("config-drop-failed-pieces-whole-context", lambda c: c.stt(drop_failed_pieces=1),
        "config key 'translation.drop_failed_pieces': must be in [0, 1), got 1", found="parse"),
    bad("config-answer-score-on-a-0-1-scale", lambda c: c.stt(filters={**c.no_filters, "answer_min_score": 0.8}),
        "config key 'translation.filters.answer_min_score': must be in [1, 100], got 0.8", found="parse"),
    bad("config-retries-negative", lambda c: c.stt(retries=-1),
        "config key 'translation.retries': must be in [0, 16], got -1", found="parse"),
    bad("config-round-trip-chrf-over-100", lambda c: c.stt(filters={**c.no_filters, "round_trip_min_chrf": 150}),
        "config key 'translation.filters.round_trip_min_chrf': must be in [0, 100], got 150", found="parse"),
    bad("config-language-confidence-over-1", lambda c: c.stt(filters={**c.no_filters, "min_language_confidence": 2}),
        "config key 'translation.filters.min_language_confidence': must be in [0, 1], got 2", found="parse"),
    bad("config-language-id-candidate-without-a-model",
        lambda c: c.stt(filters={**c.no_filters, "language_id": True, "language_id_candidates": ["uk", "tlh"]}),
        "config key 'translation.filters.language_id_candidates[1]': Lingua, the language identifier, has no model "
        "for 'tlh'", found="parse"),
    bad("config-answer-markers-reversed", lambda c: c.stt(answer_markers=["]", "["]),
        "config key 'translation.answer_markers': must be [open, close] or null: the opening marker first",
        found="parse"),
    bad("config-language-id-candidate-not-a-code",
        lambda c: c.stt(filters={**c.no_filters, "language_id_candidates": ["ukrainian"]}),
        "config key 'translation.filters.language_id_candidates[0]': 'ukrainian' is not a language code",
        found="parse"),
]
# fmt: on


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_ends_with_one_line_and_leaves_files_alone(case, ctx, run_selftt, pythonpath_env):
    """Exit 2, one last ``selftt: error`` line saying what is wrong where, the previous run untouched."""
    args = case.spoil(ctx)
    before = snapshot(ctx.tmp, ctx.exclude)
    env = {"PYTHONDONTWRITEBYTECODE": "1", **(pythonpath_env(ctx.pythonpath) if ctx.pythonpath else {})}
    result = run_selftt([case.command, *args], cwd=ctx.tmp, env=env)
    after = snapshot(ctx.tmp, ctx.exclude)

    lines = result.stderr.rstrip().splitlines()
    shown = "\n".join(lines[-12:])
    assert result.returncode == 2, shown
    assert lines and lines[-1].startswith("selftt: error: "), shown
    assert sum(line.startswith("selftt: error") for line in lines) == 1, shown
    assert "Traceback" not in result.stderr, shown
    assert not any(line.startswith("Seed set to") for line in lines), shown  # nothing printed before the error
    assert len(lines[-1]) < 600, lines[-1]
    print(f"{case.id}: {lines[-1]}")
    for text in [*case.expected, *ctx.expect]:
        assert text.replace("{tmp}", str(ctx.tmp)) in lines[-1]

    changed = sorted(name for name, value in before.items() if after.get(name, "gone") != value)
    assert not changed, f"changed or deleted: {changed}"
    new = sorted(set(after) - set(before))
    if case.found == "parse":
        assert not new, f"written although the config was refused while parsing: {new}"
    else:
        made = [n for n in new if n.endswith(".ckpt") or "adapter" in n or Path(n).name.startswith("part-")]
        assert not made, made
