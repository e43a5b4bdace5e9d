"""Generic readers for local data files and Hugging Face Hub datasets.

Every reader returns a list of :class:`Record` (a ``dict`` that also remembers the 1-based
line it came from) and raises :class:`~selftt.errors.DataError` naming the file and, where
known, the line, for input it cannot use. Task classes turn records into examples.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from selftt.errors import DataError

HUB_PREFIX = "hf://"


class Record(dict):
    """One raw record: a plain dict plus ``line``, the 1-based line (hub: row) it came from."""

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), line: int | None = None):
        super().__init__(data)
        self.line = line


class Source(NamedTuple):
    """A parsed data source: ``("hub", name, config)`` or ``("file", Path, None)``."""

    kind: str
    name: str | Path
    config: str | None = None


@dataclass
class Table:
    """Records read from one source, with ``where`` (for errors) and ``stem`` (for example ids)."""

    where: str
    stem: str
    records: list[Record]


Reader = Callable[[Path], list[Record]]


def parse_source(source: str | Path) -> Source:
    """Split ``hf://name[:config]`` into ``("hub", name, config)``; else ``("file", Path, None)``.

    A local path must name an existing file.
    """
    text = str(source)
    if text.startswith(HUB_PREFIX):
        rest = text[len(HUB_PREFIX) :]
        name, _, config = rest.partition(":")
        if not name.strip():
            raise DataError(text, "no dataset name after 'hf://'; expected hf://name or hf://name:config")
        return Source("hub", name.strip(), config.strip() or None)
    path = Path(text).expanduser()
    if not path.exists():
        raise DataError(path, "file not found")
    if not path.is_file():
        raise DataError(path, "not a file")
    return Source("file", path, None)


def require_fields(record: Mapping[str, Any], fields: Iterable[str], path: object, line: int | None) -> None:
    """Raise a DataError listing the ``fields`` missing from ``record`` and the fields it has."""
    missing = [f for f in fields if f not in record]
    if missing:
        have = ", ".join(sorted(map(str, record))) or "none"
        noun = "field" if len(missing) == 1 else "fields"
        raise DataError(path, f"missing {noun} {', '.join(map(repr, missing))}; the record has: {have}", line)


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type (string, number, boolean, array, object, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names = {str: "string", list: "array", dict: "object"}
    return next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)


def require_text(record: Mapping[str, Any], field: str, path: object, line: int | None) -> str:
    """``record[field]``, which must be a string; a DataError names the field and what it is instead."""
    value = record[field]
    if not isinstance(value, str):
        shown = json.dumps(value, default=str)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise DataError(path, f"field '{field}' must be a string, got {json_type(value)} {shown}", line)
    return value


def require_nonempty_text(record: Mapping[str, Any], field: str, path: object, line: int | None) -> str:
    """``require_text``, and the text must hold more than whitespace (DataError naming the field)."""
    value = require_text(record, field, path, line)
    if not value.strip():
        what = "empty" if not value else "only whitespace"
        raise DataError(path, f"field '{field}' is {what}; expected text", line)
    return value


def deepest_line(text: str) -> int:
    """The 1-based line where JSON ``text`` first reaches its deepest nesting of arrays/objects."""
    depth = deepest = 0
    in_string = escaped = False
    line = at = 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, line
        elif char in "]}":
            depth -= 1
    return at


def loads_json(text: str, path: object, line: int | None = None) -> Any:
    """``json.loads(text)``; a DataError naming ``path`` and the line for malformed or too deeply
    nested JSON (``line``: the file line ``text`` is on, for one line of a JSONL file)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            path, f"malformed JSON: {exc.msg} (column {exc.colno})", line if line is not None else exc.lineno
        ) from None
    except RecursionError:
        at = line if line is not None else deepest_line(text)
        raise DataError(path, "JSON nested too deeply (arrays or objects inside each other)", at) from None


def _read_text(path: str | Path) -> str:
    """The file's text, decoded strictly as UTF-8 (a leading byte-order mark is dropped)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "not a file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            path, f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8", line
        ) from None


def _check_not_empty(records: list[Record], path: object) -> list[Record]:
    if not records:
        raise DataError(path, "no examples (the data set is empty)")
    return records


def read_jsonl(path: str | Path) -> list[Record]:
    """Read a JSON Lines file: each non-blank line one JSON object."""
    records = []
    for line_no, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        value = loads_json(line, path, line_no)
        if not isinstance(value, dict):
            raise DataError(path, f"expected a JSON object, got {json_type(value)}", line_no)
        records.append(Record(value, line=line_no))
    return _check_not_empty(records, path)


def read_tsv(path: str | Path, columns: Iterable[str] | None = None, header: bool = False) -> list[Record]:
    """Read a tab-separated file without quoting rules (quotes are ordinary characters).

    With ``header`` the first row names the columns; otherwise ``columns`` must name them.
    Every row must have exactly as many fields as there are columns; blank lines are skipped.
    """
    names = None if header else list(columns or ())
    if names is not None and not names:
        raise ValueError("read_tsv needs column names when the file has no header")
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    records = []
    for line_no, row in enumerate(reader, start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if names is None:
            names = [c.strip() for c in row]
            if len(set(names)) != len(names):
                raise DataError(path, f"duplicate column names in the header: {', '.join(names)}", line_no)
            continue
        if len(row) != len(names):
            raise DataError(
                path,
                f"expected {len(names)} tab-separated columns ({', '.join(names)}), got {len(row)}",
                line_no,
            )
        records.append(Record(zip(names, row, strict=True), line=line_no))
    return _check_not_empty(records, path)


def _get(obj: Any, key: str, path: object, where: str, line: int | None = None) -> Any:
    if not isinstance(obj, dict):
        raise DataError(path, f"{where}: expected a JSON object, got {json_type(obj)}", line)
    if key not in obj:
        raise DataError(path, f"{where}: missing key '{key}'", line)
    return obj[key]


_ID_KEY = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')


def _id_lines(text: str) -> dict[str, deque[int]]:
    """Lines of the ``"id": ...`` keys of a JSON text, by id, in file order (for error messages)."""
    lines: dict[str, deque[int]] = defaultdict(deque)
    line, last = 1, 0
    for match in _ID_KEY.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        try:
            lines[str(json.loads(match.group(1)))].append(line)
        except ValueError:
            continue
    return lines


def check_answer_starts(
    context: str, texts: list[str], starts: list[Any], qa_id: str, path: object, line: int | None = None
) -> None:
    """Raise a DataError (naming ``qa_id``) unless each start offset points at its answer text."""
    if len(texts) != len(starts):
        raise DataError(path, f"qa '{qa_id}': {len(texts)} answer texts but {len(starts)} answer_start", line)
    for text, start in zip(texts, starts, strict=True):
        if not isinstance(start, int) or isinstance(start, bool):
            raise DataError(path, f"qa '{qa_id}': answer_start {start!r} is not an integer", line)
        if start < 0:
            raise DataError(path, f"qa '{qa_id}': answer_start {start} is negative; expected an offset >= 0", line)
        found = context[start : start + len(text)]
        if found != text:
            raise DataError(
                path,
                f"qa '{qa_id}': answer_start {start} does not point at the answer {text!r} "
                f"in the context (found {found!r})",
                line,
            )


def read_squad_json(path: str | Path) -> list[Record]:
    """Flatten a SQuAD v1.1 JSON file into one record per question.

    Records hold ``id``, ``title``, ``context``, ``question``, ``answers`` (texts) and
    ``answer_starts`` (character offsets into the context, checked against the texts).
    """
    text = _read_text(path)
    doc = loads_json(text, path)
    articles = _get(doc, "data", path, "top level")
    if not isinstance(articles, list):
        raise DataError(path, "top level: 'data' must be a list of articles")
    id_lines = _id_lines(text)
    records = []
    for a, article in enumerate(articles):
        title = article.get("title", "") if isinstance(article, dict) else ""
        for p, paragraph in enumerate(
            _list(_get(article, "paragraphs", path, f"article {a}"), path, f"article {a}")
        ):
            where = f"article {a}, paragraph {p}"
            context = _get(paragraph, "context", path, where)
            for q, qa in enumerate(_list(_get(paragraph, "qas", path, where), path, where)):
                qa_id = str(_get(qa, "id", path, f"{where}, question {q}"))
                line = id_lines[qa_id].popleft() if id_lines.get(qa_id) else None
                if not isinstance(context, str):
                    raise DataError(
                        path, f"{where}: 'context' must be a string, got {json_type(context)}", line
                    )
                if not context.strip():
                    raise DataError(path, f"{where}: 'context' is empty; expected text", line)
                question = _get(qa, "question", path, f"qa '{qa_id}'", line)
                if not isinstance(question, str):
                    raise DataError(
                        path, f"qa '{qa_id}': 'question' must be a string, got {json_type(question)}", line
                    )
                answers = _get(qa, "answers", path, f"qa '{qa_id}'", line)
                if not isinstance(answers, list):
                    raise DataError(path, f"qa '{qa_id}': 'answers' must be a list", line)
                texts = [
                    _get(ans, "text", path, f"qa '{qa_id}' answer {i}", line) for i, ans in enumerate(answers)
                ]
                starts = [
                    _get(ans, "answer_start", path, f"qa '{qa_id}' answer {i}", line)
                    for i, ans in enumerate(answers)
                ]
                for i, text in enumerate(texts):
                    if not isinstance(text, str):
                        raise DataError(
                            path,
                            f"qa '{qa_id}' answer {i}: 'text' must be a string, got {json_type(text)}",
                            line,
                        )
                check_answer_starts(context, texts, starts, qa_id, path, line)
                records.append(
                    Record(
                        {
                            "id": qa_id,
                            "title": title,
                            "context": context,
                            "question": question,
                            "answers": texts,
                            "answer_starts": starts,
                        },
                        line=line,
                    )
                )
    return _check_not_empty(records, path)


def _list(value: Any, path: object, where: str) -> list:
    if not isinstance(value, list):
        raise DataError(path, f"{where}: expected a JSON array, got {json_type(value)}")
    return value


def hub_label(name: str, config: str | None = None, split: str | None = None) -> str:
    """How a hub source is named in messages: ``hf://name:config [split]``."""
    label = HUB_PREFIX + name + (f":{config}" if config else "")
    return f"{label} [{split}]" if split else label


def read_hub(name: str, config: str | None = None, split: str | None = None) -> list[Record]:
    """Load a Hugging Face dataset split as records (``line`` counts rows from 1).

    Without ``split`` the dataset must have exactly one split. Any failure to load becomes a
    DataError (offline machines need a cached copy, see ``HF_HUB_OFFLINE``).
    """
    where = hub_label(name, config, split)
    try:
        import datasets

        loaded = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # noqa: BLE001 - any loader failure is reported the same way
        raise DataError(
            where,
            f"could not load dataset '{name}'"
            + (f" (config '{config}')" if config else "")
            + f": {type(exc).__name__}: {exc}. Loading from the Hub needs network access or a cached "
            "copy (with HF_HUB_OFFLINE=1 only cached datasets load); or use a local file instead",
        ) from exc
    if split is None and hasattr(loaded, "keys"):
        splits = list(loaded.keys())
        if len(splits) != 1:
            raise DataError(where, f"dataset has splits {', '.join(splits)}; choose one with split=")
        loaded = loaded[splits[0]]
    records = [Record(dict(row), line=i) for i, row in enumerate(loaded, start=1)]
    return _check_not_empty(records, where)


def read_source(source: str | Path, readers: Mapping[str, Reader], split: str | None = None) -> Table:
    """Read ``source`` with the reader registered for its file suffix, or from the Hub.

    ``split`` applies to Hub sources only. Raises a DataError for an unknown suffix.
    """
    kind, name, config = parse_source(source)
    if kind == "hub":
        records = read_hub(str(name), config, split)
        stem = "-".join(p for p in (str(name).rsplit("/", 1)[-1], config, split) if p)
        return Table(hub_label(str(name), config, split), stem, records)
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix not in readers:
        raise DataError(
            path, f"unsupported file type '{suffix}'; expected one of {', '.join(sorted(readers))}"
        )
    return Table(str(path), path.stem, readers[suffix](path))


def check_unique_ids(ids: Iterable[tuple[str, int | None]], where: object) -> None:
    """Raise a DataError at the second occurrence of a repeated id; ``ids`` are (id, line) pairs."""
    seen: dict[str, int | None] = {}
    for id_, line in ids:
        if id_ in seen:
            first = f" (first at line {seen[id_]})" if seen[id_] is not None else ""
            raise DataError(where, f"duplicate example id '{id_}'{first}", line)
        seen[id_] = line
