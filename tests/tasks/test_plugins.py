"""Tasks defined outside selftt (tests/assets/plugins/mytasks), loaded by class path or dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftt.errors import ConfigError, SelfTTError
from selftt.evaluation.results_schema import default_primary_metric
from selftt.tasks import Task, get_task
from selftt.translation.filters import FilterSettings, count_reasons, filter_example

PLUGINS = Path(__file__).resolve().parents[1] / "assets" / "plugins"
DATA = PLUGINS / "data"


@pytest.fixture(autouse=True)
def _plugins_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_class_path_and_dict_forms():
    task = get_task("mytasks.sentiment.SentimentTask")
    assert isinstance(task, Task) and task.name == "sentiment" and task.labels == ("positive", "negative")
    spec = {"class_path": "mytasks.sentiment.SentimentTask", "init_args": {"labels": ["good", "bad", "meh"]}}
    assert get_task(spec).labels == ("good", "bad", "meh")
    assert get_task(spec, labels=["yes", "no"]).labels == ("yes", "no")  # data.task_options win
    para = get_task({"class_path": "mytasks.paraphrase.ParaphraseTask"})
    assert para.name == "paraphrasetask" and para.primary_metric == "chrf"  # name defaults to the class name


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("nosuchpkg.tasks.Foo", {}, "cannot import module 'nosuchpkg.tasks' of task class 'nosuchpkg.tasks.Foo'"),
        ("mytasks.sentiment.Nope", {}, "module 'mytasks.sentiment' has no class 'Nope'"),
        ("mytasks.paraphrase.NotATask", {}, "'mytasks.paraphrase.NotATask' is not a subclass of selftt.tasks.Task"),
        ("selftt.tasks.base.Task", {}, "task class 'selftt.tasks.base.Task' does not define instruction, load"),
        ("mytasks.sentiment.SentimentTask", {"colour": 1}, "bad options for task 'mytasks.sentiment.SentimentTask': "),
        ("mytasks.sentiment.SentimentTask", {"labels": ["x"]}, "must name at least 2 classes"),
        ({"class_path": "mytasks.sentiment.SentimentTask", "init_args": {"labels": ["x"]}}, {}, "at least 2"),
        ({"class_path": "mytasks.sentiment.SentimentTask", "args": {}}, {}, "expected a task name or {class_path"),
        ({"init_args": {}}, {}, "expected a task name or {class_path"),
        ("poetry", {}, "unknown task 'poetry'; expected one of math, nli, qa or a class path"),
    ],
)
def test_errors_are_one_line_naming_the_key(spec, options, message):
    with pytest.raises(ConfigError) as info:
        get_task(spec, **options)
    text = str(info.value)
    # bad init args are the options' fault: data.task_options, or the dict form's init_args
    key = "data.task_options" if options else "data.task.init_args" if message == "at least 2" else "data.task"
    assert text.startswith(f"config key '{key}': ") and message in text and "\n" not in text


class _Scores(Task):
    """A task whose score() returns whatever the test gives it."""

    fields = translatable = inputs = ("text",)
    outputs = ()
    gold_field = "text"

    def __init__(self, values=None):
        self.values = values

    def load(self, source, lang, *, split=None):
        return []

    def instruction(self, example):
        return example["text"]

    def target(self, example):
        return example["text"]

    def parse_answer(self, generation, lang):
        return generation

    def score(self, predictions, golds, lang):
        return self.values


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (0.5, "must return a dict of metrics, got float"),
        ({"acc": 50.0}, "returned no 'accuracy' (the task's primary_metric/correct_metric); it returned acc"),
        ({"accuracy": 150.0}, "'accuracy' is 150.0; every metric must be a number from 0 to 100 (%)"),
        ({"accuracy": float("nan")}, "'accuracy' is nan"),
        ({"accuracy": 50.0, "note": "x"}, "'note' is 'x'"),
    ],
)
def test_a_score_that_breaks_its_contract_is_one_line_naming_the_task(values, message):
    with pytest.raises(SelfTTError) as info:
        _Scores(values).checked_score(["a"], ["a"], "en")
    text = str(info.value)
    assert text.startswith("task '_scores' (") and message in text and "\n" not in text
    assert _Scores({"accuracy": 100}).is_correct("a", "a", "en")


def test_sentiment_load_prompt_parse_score(caplog):
    task = get_task("mytasks.sentiment.SentimentTask")
    train = task.load(str(DATA / "sentiment_en.jsonl"), "en")
    assert len(train) == 12 and train[0] == {
        "id": "p0", "lang": "en", "text": "I loved this film, it was wonderful.", "label": "positive"
    }
    assert task.instruction(train[0]).startswith("Is the sentiment of this review positive / negative?")
    assert task.target(train[0]) == "positive"
    assert task.parse_answer("Negative, clearly. Not positive.", "en") == "negative"
    preds = [task.parse_answer(g, "de") for g in ("positive", "negative!", "keine Ahnung", "negative")]
    assert task.score(preds, ["positive", "positive", "negative", "negative"], "de") == {
        "accuracy": 50.0, "unparsed": 25.0
    }
    assert task.is_correct("positive", "positive", "en")
    with caplog.at_level("WARNING"):
        task.check_language("sw")
    assert "task 'sentiment' has no instruction for language 'sw'" in caplog.text


def test_paraphrase_score_and_its_translation_check():
    task = get_task("mytasks.paraphrase.ParaphraseTask")
    (ex, *_) = task.load(str(DATA / "paraphrase_de.jsonl"), "de")
    assert task.target(ex) == "Eine Katze saß auf der Matte."
    assert task.score([ex["paraphrase"]], [ex["paraphrase"]], "de") == {"chrf": pytest.approx(100.0)}
    assert 0 < task.score(["Eine Katze"], [ex["paraphrase"]], "de")["chrf"] < 100
    with pytest.raises(ValueError, match="2 predictions but 1"):
        task.score(["a", "b"], ["a"], "de")
    settings = FilterSettings(length_ratio=False, script=False, untranslated=False)
    same = {**ex, "paraphrase": ex["source"]}
    verdict = filter_example(task, ex, same, "de", settings)
    assert verdict == ["example:same_as_source"]
    assert count_reasons([verdict, []])["same_as_source"] == 1


def test_builtin_checks_moved_into_the_tasks():
    settings = FilterSettings()
    math = get_task("math")
    src = {"question": "Tom has 48 apples.", "answer": "48/2 = 24"}
    assert math.translation_checks(src, {"question": "Tom hat 84 Äpfel.", "answer": ""}, "de", settings,
                                   ("question", "answer")) == ["question:numbers"]
    qa = get_task("qa")
    out = {"context": "Berlin ist groß.", "question": "Was?", "answer": "Paris"}
    assert qa.translation_checks({}, out, "de", settings, qa.translatable) == ["example:answer_in_context"]
    assert get_task("nli").translation_checks({}, {}, "de", settings, ()) == []


def test_primary_metric_for_old_results_files_comes_from_the_registry():
    assert [default_primary_metric(t) for t in ("math", "qa", "nli", "sentiment")] == [
        "accuracy", "f1", "accuracy", None
    ]
