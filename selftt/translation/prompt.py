"""The few-shot prompt with which the model translates its own training data.

With the default settings and two German shots the prompt for ``text`` reads::

    English: <shot 1 en>
    German: <shot 1 de>

    English: <shot 2 en>
    German: <shot 2 de>

    English: <text>
    German:

The prompt ends with ``German:`` and no trailing space, so that the model writes
`` <translation>`` (most BPE vocabularies attach the space to the next word's token; a prompt
ending in a space would force an unusual split). Callers strip the generated text and cut it at
the first of :meth:`TranslationPrompt.stop_strings` (the generator does the cutting).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from selftt.errors import ConfigError
from selftt.languages import get_language

_FIELDS = ("src_name", "tgt_name", "src_lang", "tgt_lang", "src", "tgt")
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


@dataclass
class TranslationPrompt:
    """The few-shot prompt the model continues with its translation."""

    n_shots: int = 4
    """How many shot pairs (the first ones of the shots file) to put before the text; 0 = zero-shot."""
    template: str = "{src_name}: {src}\n{tgt_name}: {tgt}"
    """One pair. Fields: {src_name} {tgt_name} (English, German, ...), {src_lang} {tgt_lang} (codes),
    {src} {tgt} (the texts). Must end with {tgt}: the text to translate uses the template up to
    {tgt}, trailing spaces stripped, and the model's continuation is the translation."""
    separator: str = "\n\n"
    """Between pairs. The text to translate must not contain it (callers translate line by line)."""
    stop: list[str] | None = None
    """Strings that end the translation. None: [separator, "\\n" + source language name + ":"]."""

    # ------------------------------------------------------------------ checks
    def validate(self, key: str = "translation.prompt") -> None:
        """Raise ConfigError (naming ``key.<field>``) for a setting that cannot make a prompt."""
        if isinstance(self.n_shots, bool) or not isinstance(self.n_shots, int) or self.n_shots < 0:
            raise ConfigError(f"{key}.n_shots", f"must be an integer >= 0, got {self.n_shots!r}")
        self._check_template(f"{key}.template")
        if not isinstance(self.separator, str) or not self.separator:
            raise ConfigError(f"{key}.separator", f"must be a non-empty string, got {self.separator!r}")
        if self.stop is not None:
            if not isinstance(self.stop, (list, tuple)):
                raise ConfigError(f"{key}.stop", f"must be a list of strings or null, got {self.stop!r}")
            for s in self.stop:
                if not isinstance(s, str) or not s:
                    raise ConfigError(f"{key}.stop", f"stop strings must be non-empty strings, got {s!r}")

    def _check_template(self, key: str) -> None:
        template = self.template
        if not isinstance(template, str):
            raise ConfigError(key, f"must be a string, got {template!r}")
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as err:
            raise ConfigError(
                key, f"is not a valid format string ({err}); write literal braces as {{{{ }}}}"
            ) from err
        names = [name for _, name, _, _ in parsed if name is not None]
        for name in names:
            if name not in _FIELDS:
                raise ConfigError(
                    key, f"unknown field {{{name}}}; allowed: {', '.join('{' + f + '}' for f in _FIELDS)}"
                )
        for required in ("src", "tgt"):
            if names.count(required) != 1:
                raise ConfigError(key, f"must contain {{{required}}} exactly once, got {template!r}")
        if names.index("src") > names.index("tgt"):
            raise ConfigError(key, "{src} must come before {tgt}")
        if parsed[-1][1] != "tgt":
            raise ConfigError(
                key, "must end with {tgt}: the model's continuation of the prompt is the translation"
            )
        for _, name, spec, conv in parsed:
            if name is not None and (spec or conv):
                raise ConfigError(key, f"field {{{name}}} may not have a format spec or conversion")

    def select_shots(
        self, shots: list[tuple[str, str]], key: str = "translation.prompt"
    ) -> list[tuple[str, str]]:
        """The shots the prompt uses: the first ``n_shots`` (ConfigError if there are fewer)."""
        if self.n_shots > len(shots):
            raise ConfigError(
                f"{key}.n_shots", f"asks for {self.n_shots} shots but the shots file has only {len(shots)}"
            )
        return [(str(s), str(t)) for s, t in shots[: self.n_shots]]

    # ------------------------------------------------------------------ prompt
    def _names(self, src_lang: str, tgt_lang: str) -> dict[str, str]:
        # English names from CLDR (selftt.languages); ConfigError for an invalid code
        return {
            "src_lang": src_lang,
            "tgt_lang": tgt_lang,
            "src_name": get_language(src_lang, "translation.languages").name,
            "tgt_name": get_language(tgt_lang, "translation.languages").name,
        }

    def build(self, text: str, shots: list[tuple[str, str]], src_lang: str, tgt_lang: str) -> str:
        """The prompt for translating ``text`` (one line; surrounding whitespace is stripped).

        Raises ValueError for a text that is empty or contains the separator or a blank line,
        or for a used shot that contains the separator; ConfigError for invalid settings.
        """
        self.validate()
        used = self.select_shots(shots)
        names = self._names(src_lang, tgt_lang)
        text = text.strip()
        if not text:
            raise ValueError("nothing to translate: the text is empty")
        if self.separator in text or _BLANK_LINE.search(text):
            raise ValueError(
                f"the text to translate contains the prompt separator {self.separator!r} or a blank line; "
                "translate multi-line fields line by line"
            )
        for src, tgt in used:
            if self.separator in src or self.separator in tgt:
                raise ValueError(
                    f"shot pair ({src!r}, {tgt!r}) contains the prompt separator {self.separator!r}"
                )
        pairs = [self.template.format(**names, src=src, tgt=tgt) for src, tgt in used]
        query = self.template[: -len("{tgt}")].format(**names, src=text).rstrip(" ")
        return self.separator.join([*pairs, query])

    def language_names(self, src_lang: str, tgt_lang: str) -> list[str]:
        """The names the prompt gives the two languages (``English``, ``German``)."""
        names = self._names(src_lang, tgt_lang)
        return [names["src_name"], names["tgt_name"]]

    def stop_strings(self, src_lang: str) -> list[str]:
        """Where the generated translation ends (the next pair starting, or the separator)."""
        if self.stop is not None:
            return list(self.stop)
        return [self.separator, "\n" + get_language(src_lang, "translation.languages").name + ":"]

    def fingerprint(self, shots: list[tuple[str, str]], src_lang: str, tgt_lang: str) -> dict[str, Any]:
        """Everything that changes the prompt text or where the output is cut (JSON-ready, for cache keys).

        Only the shots actually used count: shots past ``n_shots`` do not change it.
        """
        self.validate()
        used = self.select_shots(shots)
        names = self._names(src_lang, tgt_lang)
        return {
            "template": self.template,
            "separator": self.separator,
            "n_shots": self.n_shots,
            "shots": [[src, tgt] for src, tgt in used],
            "stop": self.stop_strings(src_lang),
            **names,
        }
