"""Tests for the prompt format: the tokenizer's chat template or the plain instruction format."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from selftt.datamodules.prompting import PLAIN_TEMPLATE, PromptFormatter
from selftt.errors import ConfigError


@pytest.fixture
def plain_tok(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture
def chat_tok(tiny_chat_model):
    return AutoTokenizer.from_pretrained(tiny_chat_model)


@pytest.mark.parametrize("style", ["auto", "plain"])
def test_plain_style_on_tokenizer_without_template(plain_tok, style):
    formatter = PromptFormatter(plain_tok, style)
    assert formatter.style == "plain" and not formatter.use_chat
    assert formatter.prompt("X") == "### Instruction:\nX\n\n### Response:\n"
    assert formatter.add_special_tokens is True
    ids = plain_tok(formatter.prompt("X"), add_special_tokens=formatter.add_special_tokens)["input_ids"]
    assert ids[0] == plain_tok.bos_token_id and ids.count(plain_tok.bos_token_id) == 1
    assert formatter.describe() == {
        "style": "plain",
        "plain_template": PLAIN_TEMPLATE,
        "add_special_tokens": True,
    }


@pytest.mark.parametrize("style", ["auto", "chat"])
def test_chat_style_on_tokenizer_with_template(chat_tok, style):
    formatter = PromptFormatter(chat_tok, style)
    assert formatter.style == "chat" and formatter.use_chat
    prompt = formatter.prompt("X")
    assert prompt == "<s><|user|>\nX</s>\n<|assistant|>\n"
    assert formatter.add_special_tokens is False
    # The template writes its own BOS: tokenized as the formatter says, there is exactly one.
    ids = chat_tok(prompt, add_special_tokens=formatter.add_special_tokens)["input_ids"]
    assert ids[0] == chat_tok.bos_token_id and ids.count(chat_tok.bos_token_id) == 1
    assert formatter.describe() == {"style": "chat", "plain_template": None, "add_special_tokens": False}


def test_plain_style_forced_on_chat_tokenizer(chat_tok):
    formatter = PromptFormatter(chat_tok, "plain")
    assert formatter.style == "plain" and formatter.add_special_tokens is True
    assert formatter.prompt("X") == PLAIN_TEMPLATE.format(instruction="X")


def test_chat_style_without_template_names_key(plain_tok):
    with pytest.raises(ConfigError, match=r"data\.prompt_style.*no chat template") as info:
        PromptFormatter(plain_tok, "chat")
    assert info.value.key == "data.prompt_style"


@pytest.mark.parametrize("style", ["instruct", "", "Chat"])
def test_unknown_style_names_key(plain_tok, style):
    with pytest.raises(ConfigError, match=r"data\.prompt_style.*expected one of auto, chat, plain") as info:
        PromptFormatter(plain_tok, style)
    assert info.value.key == "data.prompt_style"


def test_custom_key_is_reported(plain_tok):
    with pytest.raises(ConfigError, match=r"export\.prompt_style") as info:
        PromptFormatter(plain_tok, "nope", key="export.prompt_style")
    assert info.value.key == "export.prompt_style"
