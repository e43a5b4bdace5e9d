"""A misspelled config key ends with one line naming the key, where it was written (file and line,
or the command line) and the option probably meant (selftt/unknown_key.py through the CLI)."""

from __future__ import annotations

import pytest

from selftt.cli import cli_main


def _error(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert sum(line.startswith("selftt: error") for line in lines) == 1
    return lines[-1]


def test_a_misspelled_key_in_a_config_file_names_the_file_line_and_the_close_option(tmp_path, write_config, capsys):
    config = write_config(extra={"data": {"batchsize": 2}})
    line = next(i for i, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1) if "batchsize" in text)
    message = _error(["fit", "--config", str(config)], capsys)
    assert message == (
        f"selftt: error: config key 'data.batchsize' ({config}, line {line}) is not an option of 'fit'; "
        "did you mean 'data.batch_size'?"
    )
    assert not (tmp_path / "logs").exists()


def test_the_last_config_file_with_the_key_is_named(tmp_path, write_config, capsys):
    config = write_config()
    override = tmp_path / "override.yaml"
    override.write_text("# my overrides\nmodel:\n  lora:\n    alpah: 8\n", encoding="utf-8")
    message = _error(["fit", "--config", str(config), "--config", str(override)], capsys)
    assert f"config key 'model.lora.alpah' ({override}, line 4)" in message
    assert message.endswith("did you mean 'model.lora.alpha'?")


def test_a_section_file_is_searched_under_its_section(tmp_path, write_config, capsys):
    section = tmp_path / "data.yaml"
    section.write_text("batch_sizee: 2\n", encoding="utf-8")
    message = _error(["fit", "--config", str(write_config()), "--data", str(section)], capsys)
    assert f"config key 'data.batch_sizee' ({section}, line 1) is not an option of 'fit'" in message


@pytest.mark.parametrize("subcommand", ["fit", "validate", "translate"])
def test_a_misspelled_key_on_the_command_line_is_named_with_the_close_option(write_config, capsys, subcommand):
    message = _error([subcommand, "--config", str(write_config()), "--trainer.max_stepz", "3"], capsys)
    assert message == (
        f"selftt: error: config key 'trainer.max_stepz' (on the command line) is not an option of "
        f"'{subcommand}'; did you mean 'trainer.max_steps'?"
    )


def test_a_key_unlike_any_option_lists_its_sections_options(write_config, capsys):
    config = write_config(extra={"model": {"lora": {"rank": 1}}})  # PEFT calls it r
    message = _error(["fit", "--config", str(config)], capsys)
    assert "config key 'model.lora.rank'" in message and "did you mean" not in message
    taken = message.partition("'model.lora' takes: ")[2].split(", ")
    assert {"r", "alpha", "dropout"} <= set(taken)


@pytest.mark.parametrize(("given", "meant"), [("--data.batch", "data.batch_size"), ("--trainer.max_step", "trainer.max_steps")])
def test_an_abbreviated_option_is_refused_not_expanded(write_config, capsys, given, meant):
    """argparse would read "--data.batch 6" as --data.batch_size 6 without a word."""
    message = _error(["fit", "--config", str(write_config()), given, "6"], capsys)
    assert message.endswith(f"did you mean '{meant}'?")
