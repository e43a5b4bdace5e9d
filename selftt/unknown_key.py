"""Say where an unknown config key was written and which key was probably meant.

jsonargparse reports ``Subcommand 'fit' does not accept option 'data.batchsize'``: no file, no
line, no suggestion. :func:`explain_unknown_key` turns it into
``config key 'data.batchsize' (my.yaml, line 12) is not an option of 'fit'; did you mean
'data.batch_size'?``. Close matches come from :func:`difflib.get_close_matches` over the
subcommand's option names; the line from PyYAML's node marks (``yaml.compose``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

_UNKNOWN = re.compile(r"Subcommand '([^']+)' does not accept option '([^']+)'")
_UNRECOGNIZED = re.compile(r"^unrecognized arguments: --([\w.]+)(?:[= ]|$)")


def option_names(parser: object) -> list[str]:
    """The dotted option names of a jsonargparse parser (``data.batch_size``), without the
    per-class ``.help`` options."""
    actions = getattr(parser, "_actions", ())
    return sorted({a.dest for a in actions if a.dest and not a.dest.endswith(".help") and a.dest != "help"})


def locate_key(key: str, files: Iterable[tuple[Path, str]]) -> tuple[Path, int] | None:
    """(file, 1-based line) where dotted ``key`` is written in one of ``files``: (path, the
    argument that named it: ``--config`` for a whole config, ``--data`` for a file of the
    ``data`` section). The last file that has it wins, as in jsonargparse. None if none has it."""
    import yaml

    found = None
    for path, argument in files:
        prefix = "" if argument in ("-c", "--config") else argument.lstrip("-") + "."
        if prefix and not key.startswith(prefix):
            continue
        try:
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for part in key[len(prefix) :].split("."):
            if not isinstance(node, yaml.MappingNode):
                node = None
                break
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                node = None
                break
            mark, node = match[0].start_mark, match[1]
        if node is not None:
            found = (path, mark.line + 1)
    return found


def close_option(key: str, names: Sequence[str]) -> str | None:
    """The option ``key`` probably meant: an option of the same section whose last part is close
    (``data.batchsize`` -> ``data.batch_size``; difflib ratio >= 0.6), else any option whose last
    part is very close (>= 0.8: ``translation.n_shotz`` -> ``translation.prompt.n_shots``), one of
    the same top-level section first; None if there is none."""
    section, _, leaf = key.rpartition(".")
    siblings = {n.rpartition(".")[2]: n for n in names if n.rpartition(".")[0] == section}
    close = difflib.get_close_matches(leaf, list(siblings), n=1, cutoff=0.6)
    if close:
        return siblings[close[0]]
    top = key.partition(".")[0]
    ranked = sorted(
        (n for n in names if difflib.get_close_matches(leaf, [n.rpartition(".")[2]], cutoff=0.8)),
        key=lambda n: (n.partition(".")[0] != top, -difflib.SequenceMatcher(None, leaf, n.rpartition(".")[2]).ratio()),
    )
    return ranked[0] if ranked else None


def explain_unknown_key(
    message: str, subparser: object, files: Sequence[tuple[Path, str]], subcommand: str = ""
) -> str | None:
    """One line for jsonargparse's unknown-option ``message`` (a key in a config file, or an
    unrecognized ``--key`` on the command line of ``subcommand``): the key, the file and line
    that set it (or "on the command line"), and the option probably meant (:func:`close_option`),
    else the options of its section. None if ``message`` is another error."""
    found, given = _UNKNOWN.search(message), _UNRECOGNIZED.search(" ".join(message.split()))
    if found is not None:
        subcommand, key = found.groups()
        where = locate_key(key, files)
        place = f" ({where[0]}, line {where[1]})" if where else ""
    elif given is not None and subcommand:
        key, place = given.group(1), " (on the command line)"
    else:
        return None
    text = f"config key '{key}'{place} is not an option of '{subcommand}'"
    names = option_names(subparser)
    close = close_option(key, names)
    if close:
        return f"{text}; did you mean '{close}'?"
    section = key.rpartition(".")[0]
    siblings = [n.rpartition(".")[2] for n in names if n.rpartition(".")[0] == section]
    if section and siblings:
        return f"{text}; '{section}' takes: {', '.join(siblings)}"
    return text
