"""The Article record and its readers (JSONL, JSONL.gz, CSV).

Every reader reports bad input as a `DataError` naming the file, the line and the problem. With
``skip_bad=True`` such rows are skipped and collected instead, so a caller can count and report them;
nothing is dropped silently.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator

LABELS = ("diplomacy", "reconstruction_finance", "military", "other")
TEXT_FIELDS = ("headline", "teaser", "body")
FIELDS = ("id", "headline", "teaser", "body", "topic", "date", "source", "sure")


class DataError(ValueError):
    """Bad input data; the message says which file, which line and what is wrong."""

    def __init__(self, path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT_CHARS = 50_000  # per text field given to the models: ~8,000 words, far more than they read


def scrub(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes, escaped "\\udc80") replaced by U+FFFD, so it can be written."""
    return _SURROGATE.sub("\ufffd", text)


def article_id(value, default: str) -> str:
    """The one rule for ids, used by the readers, predict() and the batch script: a string as given (empty or
    missing: `default`), an integer or a whole float (3.0) as its digits, another finite number as written;
    true/false, NaN and anything else are a TypeError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"an id must be a string or a number, got {value!r}")


def cut_text(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars` characters, at a space where one is near the end."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    space = head.rfind(" ", max_chars * 3 // 4)
    return head[:space] if space > 0 else head


def fit_for_models(article: Article) -> tuple[Article, list[str]]:
    """A copy of `article` that any tokenizer or sentence splitter can take: lone surrogates replaced by U+FFFD and
    each text field cut to MAX_TEXT_CHARS; with a note for the user on each change."""
    notes, changes = [], {}
    for name in TEXT_FIELDS:
        value = getattr(article, name)
        if not value:
            continue
        clean = scrub(value)
        if clean != value:
            notes.append(f"text had characters that are not valid Unicode ({name}); they were replaced with \ufffd")
        if len(clean) > MAX_TEXT_CHARS:
            notes.append(f"input cut: the {name} has {len(clean):,} characters, only the first {MAX_TEXT_CHARS:,} "
                         f"were read")
            clean = cut_text(clean, MAX_TEXT_CHARS)
        if clean != value:
            changes[name] = clean
    if _SURROGATE.search(article.id):
        changes["id"] = scrub(article.id)
    return (replace(article, **changes) if changes else article), notes


@dataclass
class Article:
    """One news article. Only `id` and some text (headline, teaser or body) are required."""

    id: str
    headline: str | None = None
    teaser: str | None = None
    body: str | None = None
    topic: str | None = None
    date: str | None = None
    source: str | None = None
    sure: bool | None = None  # False where the annotator found the topic label ambiguous

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("article id must be a non-empty string")
        for name in TEXT_FIELDS + ("topic", "date", "source"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"article field {name!r} must be a string or None, got {type(value).__name__}")
            if isinstance(value, str) and not value.strip():
                setattr(self, name, None)  # "" and whitespace mean absent
        if self.sure is not None and not isinstance(self.sure, bool):
            raise TypeError(f"article field 'sure' must be true, false or None, got {self.sure!r}")
        if not any(getattr(self, f) for f in TEXT_FIELDS):
            raise ValueError(f"article {self.id!r} has no text: headline, teaser and body are all empty")
        if self.topic is not None and self.topic not in LABELS:
            raise ValueError(f"article {self.id!r} has unknown topic {self.topic!r}; known: {', '.join(LABELS)}")

    @property
    def text(self) -> str:
        """Headline, teaser and body joined: the classifier's input."""
        return "\n".join(getattr(self, f) for f in TEXT_FIELDS if getattr(self, f))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BadRow:
    """A row that could not be read: where it is and why."""

    path: str
    line: int | None
    reason: str
    raw_id: str | None = None  # the row's id, where one could be read

    def __str__(self):
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class Row:
    line: int
    article: Article | None = None
    error: BadRow | None = None


@dataclass
class FieldMap:
    """Which column or JSON key holds each Article field (default: the field's own name)."""

    columns: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, items) -> "FieldMap":
        """From CLI items like ``["body=text", "headline=title"]``."""
        columns = {}
        for item in items or ():
            name, sep, column = item.partition("=")
            if not sep or name not in FIELDS or not column:
                raise ValueError(f"bad field mapping {item!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
            columns[name] = column
        return cls(columns)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def file_format(path: Path) -> str:
    """"jsonl" or "csv", from the file's name; another name is a DataError."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")):
        return "jsonl"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise DataError(path, None, "unknown file type: expected .jsonl, .jsonl.gz or .csv")


def open_bytes(path: Path):
    """The file opened for reading bytes (a .gz decompressed); a missing or unreadable one is a DataError."""
    if not path.exists():
        raise DataError(path, None, "file not found")
    if path.is_dir():
        raise DataError(path, None, "is a directory, expected a file")
    try:
        return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")
    except OSError as e:  # permission denied, ...
        raise DataError(path, None, f"cannot open: {e.strerror or e}") from None


class RecordError(ValueError):
    """A record (a row of a file, a dict given to predict()) that is not an article; `type_error` when a field has
    the wrong type."""

    def __init__(self, reason: str, type_error: bool = False):
        super().__init__(reason)
        self.type_error = type_error


def article_from_dict(rec: dict, fields: FieldMap | None = None, default_id: str = "", *, labels: bool = True,
                      require_topic: bool = False, strict_unicode: bool = True) -> Article:
    """The one way a dict becomes an Article: the readers' rows and the dicts given to predict() or the demo.
    `fields` maps newsdesk's field names to the record's; `default_id` is the id of a record without one;
    `labels=False` ignores the topic and annotator fields (not needed to predict); `strict_unicode` rejects lone
    surrogates (undecodable bytes) instead of leaving them to `fit_for_models`. Raises RecordError."""
    fmap = fields or FieldMap()

    def get(name):
        value = rec.get(fmap.column(name))
        col = repr(fmap.column(name))
        if value is None or (name == "sure" and value == ""):
            return None
        if name == "sure":
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.strip().lower() in ("true", "1", "yes")
            if not isinstance(value, bool):
                raise RecordError(f"field {col} must be true or false, got {value!r}", type_error=True)
            return value
        if strict_unicode and isinstance(value, str) and _SURROGATE.search(value):  # undecodable bytes, "\udc80"
            raise RecordError(f"field {col} is not valid UTF-8 (undecodable bytes or a lone surrogate)")
        if name == "id":
            try:
                return article_id(value, default_id)
            except TypeError as e:
                raise RecordError(f"field {col}: {e}", type_error=True) from None
        if not isinstance(value, str):
            raise RecordError(f"field {col} must be a string, got {type(value).__name__}", type_error=True)
        return value

    names = FIELDS if labels else tuple(f for f in FIELDS if f not in ("topic", "sure"))
    values = {name: get(name) for name in names}
    values["id"] = values["id"] or default_id
    if values.get("topic") is not None:
        values["topic"] = values["topic"].strip() or None
    if values.get("sure") is not None and values["topic"] is None:
        values["sure"] = None
    if not any(values[f] and values[f].strip() for f in TEXT_FIELDS):
        cols = ", ".join(repr(fmap.column(f)) for f in TEXT_FIELDS)
        raise RecordError(f"no text: fields {cols} are all missing or empty (got keys {sorted(map(str, rec))})")
    if values.get("topic") is not None and values["topic"] not in LABELS:
        raise RecordError(f"unknown topic label {values['topic']!r}; known labels: {', '.join(LABELS)}")
    if require_topic and values.get("topic") is None:
        raise RecordError(f"missing topic label (field {fmap.column('topic')!r})")
    try:
        return Article(**values)
    except (TypeError, ValueError) as e:
        raise RecordError(str(e), isinstance(e, TypeError)) from None


def _record_to_article(rec: dict, fmap: FieldMap, path: Path, line: int, require_topic: bool) -> Article:
    try:
        return article_from_dict(rec, fmap, f"{path.name}:{line}", require_topic=require_topic)
    except RecordError as e:
        raise DataError(path, line, str(e)) from None


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    with open_bytes(path) as fh:
        try:
            for line_no, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    yield line_no, None, f"not valid UTF-8 (byte {e.start})"
                    continue
                if line_no == 1:
                    text = text.lstrip("\ufeff")  # a UTF-8 byte order mark (as some editors write)
                if not text.strip():
                    continue
                try:
                    rec = json.loads(text.rstrip("\r\n"))  # so that an error at the end is on this line
                except json.JSONDecodeError as e:
                    yield line_no, None, f"malformed JSON: {e.msg} (column {e.colno})"
                    continue
                if not isinstance(rec, dict):
                    yield line_no, None, f"expected a JSON object, got {type(rec).__name__}"
                    continue
                yield line_no, rec, None
        except (OSError, EOFError) as e:  # truncated or corrupt gzip
            raise DataError(path, None, f"cannot read file: {e}") from None


MAX_ROW_LINES = 1_000  # a CSV row spanning more lines than this is taken for an unbalanced quote


class _Lines:
    """The lines of a text stream for csv.reader, keeping those of the row being read so they can be read again."""

    def __init__(self, stream):
        self.stream, self.back, self.taken, self.line = stream, [], [], 0

    def __iter__(self):
        return self

    def __next__(self):
        text = self.back.pop() if self.back else next(self.stream)
        self.line += 1
        self.taken.append(text)
        return text

    def reread_after_first(self) -> None:
        """Read the current row's lines again, all but its first, as fresh rows."""
        self.back.extend(reversed(self.taken[1:]))
        self.line -= len(self.taken) - 1


def _csv_records(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    with open_bytes(path) as fh:
        # surrogateescape keeps undecodable bytes as markers that _record_to_article reports per row
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
        lines = _Lines(text)
        csv.field_size_limit(2**31 - 1)  # a long body is a row like any other (the default limit is 131,072 chars)
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip().lstrip("\ufeff") for h in header]
            while True:
                lines.taken, line_no = [], lines.line + 1
                try:
                    row = next(reader, None)
                    problem = None if len(lines.taken) <= MAX_ROW_LINES else f"a field runs over {len(lines.taken):,} lines"
                except csv.Error as e:
                    problem = f"malformed CSV: {e}"
                if problem:  # an unbalanced quote swallows the rows after it: report it, read those rows again
                    yield line_no, None, f"{problem} (an unbalanced quote on this line?); the lines after it are read again"
                    lines.reread_after_first()
                    reader = csv.reader(lines, strict=True)
                    continue
                if row is None:
                    return
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield line_no, None, f"expected {len(header)} columns, found {len(row)}"
                    continue
                yield line_no, dict(zip(header, row)), None
        except csv.Error as e:  # in the header
            raise DataError(path, lines.line, f"malformed CSV: {e}") from None
        except (OSError, EOFError) as e:
            raise DataError(path, None, f"cannot read file: {e}") from None


def iter_rows(path, fields: FieldMap | None = None, require_topic: bool = False) -> Iterator[Row]:
    """Yield every non-blank row of a data file as a `Row` holding an Article or a BadRow."""
    path = Path(path)
    fmap = fields or FieldMap()
    records = _jsonl_records(path) if file_format(path) == "jsonl" else _csv_records(path)
    for line_no, rec, problem in records:
        if problem is not None:
            yield Row(line_no, error=BadRow(str(path), line_no, problem))
            continue
        raw_id = rec.get(fmap.column("id"))
        try:
            yield Row(line_no, article=_record_to_article(rec, fmap, path, line_no, require_topic))
        except DataError as e:
            yield Row(line_no, error=BadRow(str(path), line_no, e.reason, None if raw_id is None else scrub(str(raw_id))))


def read_articles(paths, fields: FieldMap | None = None, require_topic: bool = False,
                  skip_bad: bool = False, bad_rows: list | None = None) -> list[Article]:
    """Read one or more files. Raises DataError on the first bad row unless ``skip_bad``; skipped rows
    are appended to ``bad_rows`` when given. Duplicate ids across the input are an error."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    articles, seen = [], {}
    for path in paths:
        for row in iter_rows(path, fields, require_topic):
            if row.error is None and row.article.id in seen:
                row = Row(row.line, error=BadRow(str(path), row.line,
                                                 f"duplicate id {row.article.id!r} (first at {seen[row.article.id]})"))
            if row.error is not None:
                if not skip_bad:
                    raise DataError(row.error.path, row.error.line, row.error.reason)
                if bad_rows is not None:
                    bad_rows.append(row.error)
                continue
            seen[row.article.id] = f"{path}:{row.line}"
            articles.append(row.article)
    return articles


SAMPLES = Path(__file__).resolve().parent / "samples" / "articles.jsonl"
