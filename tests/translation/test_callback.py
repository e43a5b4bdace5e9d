"""selftt.translation.callback: what the self-translation step writes and says about its outcome."""

from __future__ import annotations

import json
import logging

import pytest

from selftt.translation.callback import SelfTranslateCallback
from selftt.translation.handoff import TranslatedSet
from selftt.translation.translator import TranslationOutcome


def _outcome(tmp_path, kept: int, total: int) -> TranslationOutcome:
    counts = {"kept": kept, "total": total, "untranslated": total - kept}
    records = [{"id": f"e{i}", "kept": i < kept, "reasons": [] if i < kept else ["untranslated"]} for i in range(total)]
    return TranslationOutcome("de", TranslatedSet("de", "en", []), records, counts, total, 0, tmp_path)


@pytest.mark.parametrize(("kept", "warned"), [(0, True), (1, False)])
def test_a_run_whose_filters_kept_nothing_is_warned_that_it_is_not_self_translate_train(tmp_path, caplog, kept, warned):
    with caplog.at_level(logging.WARNING, logger="selftt"):
        SelfTranslateCallback._write_dataset(_outcome(tmp_path, kept, 4))
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("kept none of the 4 translations" in line and "not Self-Translate-Train" in line for line in lines) == warned
    assert len((tmp_path / "dataset.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    assert json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))["kept"] == kept
