"""The batch script: `newsdesk batch IN OUT [--models DIR]`, every article of a file through predict().

IN is JSONL, JSONL.gz or CSV (data/articles.py readers); OUT is .jsonl or .csv. Each input row becomes exactly one
output record: a prediction, or an error record with the row's line number and what is wrong with it. Records are
appended and flushed (fsync) after every batch, so a crash or Ctrl-C loses at most the batch in flight; running the
same command again skips the rows OUT already has (by id; by line for rows without one). The exit status is 1 when
any row failed.

Beside OUT: `OUT.meta.json` records which input OUT belongs to (its path and a hash of its first rows), so that a
rerun against another or a changed input is refused instead of skipping the wrong rows (OUT itself keeps exactly
one record per input row, so every reader of it works as before); `OUT.lock` is held (flock) while a run writes, so
a second run on the same OUT stops at once. `--retry-failed` rewrites OUT without its error records (atomically)
and runs those rows again.
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data import LABELS, Article, DataError, FieldMap, iter_rows
from data.articles import file_format, open_bytes, scrub
from .api import Newsdesk, load

CSV_COLUMNS = (["id", "line", "topic"] + [f"p_{lab}" for lab in LABELS] +
               ["headline", "teaser", "headline_source", "teaser_source", "warnings", "models", "error"])


@dataclass
class BatchReport:
    read: int = 0          # input rows seen this run
    done_before: int = 0   # rows OUT already had (skipped)
    written: int = 0       # records written this run
    failed: int = 0        # error records written this run
    failed_before: int = 0  # error records OUT already had
    retried: int = 0       # error records dropped by --retry-failed, their rows run again
    out: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.failed_before == 0

    def __str__(self) -> str:
        text = (f"{self.read} rows read: {self.written} written to {self.out} ({self.failed} failed), "
                f"{self.done_before} already there")
        if self.failed_before:
            text += f" ({self.failed_before} of them failed; --retry-failed runs them again)"
        if self.retried:
            text += f"; {self.retried} earlier failures retried"
        return text


def _out_format(out: Path) -> str:
    name = out.name.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise ValueError(f"{out}: output must be .jsonl or .csv")


def _complete_lines(out: Path) -> None:
    """Drop a partly written last line (a crash mid-write) so that appending starts on a fresh line."""
    data = out.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(out, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


def _done(out: Path, fmt: str) -> tuple[set, set, int]:
    """(ids done, lines done, error records) of an existing output file."""
    ids, lines, errors = set(), set(), 0
    if not out.exists() or out.stat().st_size == 0:
        return ids, lines, errors
    _complete_lines(out)
    with open(out, encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            records = []
            for n, text in enumerate(fh, start=1):
                if text.strip():
                    try:
                        rec = json.loads(text)
                    except json.JSONDecodeError:
                        rec = None
                    if not isinstance(rec, dict) or not {"id", "line", "error"} <= set(rec):
                        raise ValueError(f"{out}:{n}: not a newsdesk batch output (a result has id, line and "
                                         f"error); choose another output file or delete this one")
                    records.append(rec)
        else:
            reader = csv.DictReader(fh)
            if reader.fieldnames and list(reader.fieldnames) != CSV_COLUMNS:
                raise ValueError(f"{out}: not a newsdesk batch output (other columns); "
                                 f"choose another output file or delete this one")
            records = list(reader)
    for rec in records:
        if rec.get("id"):
            ids.add(str(rec["id"]))
        if rec.get("line") not in (None, ""):
            lines.add(int(rec["line"]))
        errors += bool(rec.get("error"))
    return ids, lines, errors


def _sidecar(out: Path, suffix: str) -> Path:
    return out.with_name(out.name + suffix)


def _input_identity(inp: Path) -> dict:
    """Which input an output belongs to: its absolute path and a hash of its first two non-blank lines. Reading
    them also checks, before OUT is touched, that the input is a known type and can be read (a .gz that is not
    gzip fails here)."""
    file_format(inp)
    digest, lines = hashlib.sha256(), 0
    try:
        with open_bytes(inp) as fh:
            for raw in fh:
                if raw.strip():
                    digest.update(raw.rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf") + b"\n")
                    lines += 1
                    if lines == 2:
                        break
    except (OSError, EOFError) as e:
        raise DataError(inp, None, f"cannot read file: {e}") from None
    return {"input": str(inp.resolve()), "first_rows_sha256": digest.hexdigest()}


@contextlib.contextmanager
def _locked(out: Path):
    """Hold OUT.lock (an exclusive flock) for the run: a second run on the same OUT fails at once."""
    lock = _sidecar(out, ".lock")
    fh = open(lock, "a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise ValueError(f"{out} is being written by another `newsdesk batch` (it holds {lock}); wait for it to "
                         f"finish, or write to another output file") from None
    try:
        yield
    finally:
        fh.close()


def _check_input(out: Path, identity: dict, retry_failed: bool) -> None:
    """Refuse to resume OUT against an input other than the one it was written for (OUT.meta.json)."""
    meta = _sidecar(out, ".meta.json")
    if not out.exists() or out.stat().st_size == 0 or not meta.exists():
        return  # a fresh output (or one written before outputs recorded their input)
    try:
        before = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    if before.get("input") != identity["input"]:
        raise ValueError(f"{out} holds the results of {before.get('input', 'another input')}, not of "
                         f"{identity['input']}: choose another output file, or delete {out} and {meta}")
    if before.get("first_rows_sha256") != identity["first_rows_sha256"] and not retry_failed:
        raise ValueError(f"{identity['input']} has changed since {out} was started (its first rows differ), so its "
                         f"rows cannot be matched to the results: write to a new output file, or delete {out}; "
                         f"if you only fixed a failed row, rerun with --retry-failed")


def _write_meta(out: Path, identity: dict) -> None:
    meta, tmp = _sidecar(out, ".meta.json"), _sidecar(out, f".meta.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"written_by": "newsdesk batch", **identity}, indent=1), encoding="utf-8")
    os.replace(tmp, meta)


def _drop_errors(out: Path, fmt: str) -> int:
    """Rewrite OUT without its error records (a copy beside it, then one rename); how many were dropped."""
    if not out.exists() or out.stat().st_size == 0:
        return 0
    tmp, dropped = _sidecar(out, f".tmp-{os.getpid()}"), 0
    with open(out, encoding="utf-8", newline="") as src, open(tmp, "w", encoding="utf-8", newline="") as dst:
        if fmt == "jsonl":
            for text in src:
                keep = text.strip() and not json.loads(text).get("error")
                dropped += bool(text.strip()) and not keep
                dst.write(text if keep else "")
        else:
            writer = csv.DictWriter(dst, CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in csv.DictReader(src):
                dropped += bool(row.get("error"))
                if not row.get("error"):
                    writer.writerow(row)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, out)
    return dropped


def _record(pred=None, line: int | None = None, error: str | None = None, id_: str | None = None) -> dict:
    if error is not None:
        return {"id": id_, "line": line, "error": error}
    return {"id": pred.id, "line": line, "topic": pred.topic, "probabilities": pred.probabilities,
            "headline": pred.headline, "teaser": pred.teaser, "headline_source": pred.headline_source,
            "teaser_source": pred.teaser_source, "evidence": pred.evidence, "warnings": pred.warnings,
            "notes": pred.notes, "models": pred.models, "error": None}


def _format_records(records: list[dict], fmt: str, header: bool) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for r in records:
        row = {k: r.get(k) for k in ("id", "line", "topic", "headline", "teaser", "headline_source", "teaser_source",
                                     "error")}
        for lab in LABELS:
            row[f"p_{lab}"] = f"{r['probabilities'][lab]:.4f}" if r.get("probabilities") else ""
        row["warnings"] = " | ".join(r.get("warnings") or [])
        row["models"] = " ".join(f"{k}={v}" for k, v in (r.get("models") or {}).items())
        writer.writerow(row)
    return buf.getvalue()


def _count_rows(path: Path) -> int | None:
    try:
        with open_bytes(path) as fh:
            n = sum(1 for line in fh if line.strip())
        return n - 1 if path.name.lower().endswith((".csv", ".csv.gz")) else n
    except Exception:  # the progress bar's total is a nicety; reading errors surface below
        return None


def run_batch(inp, out, models=None, batch_size: int = 16, fields: FieldMap | None = None, progress: bool = True,
              desk: Newsdesk | None = None, retry_failed: bool = False) -> BatchReport:
    inp, out = Path(inp), Path(out)
    fmt = _out_format(out)
    if batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    if out.exists() and inp.exists() and out.resolve() == inp.resolve():
        raise ValueError(f"{out} is the input file itself: choose another output file")
    identity = _input_identity(inp)  # a missing, unreadable or unknown input fails here, before OUT is touched
    desk = desk or load(models)
    desk.load_models()  # or fail, saying how to train them, before reading anything
    with _locked(out):
        _check_input(out, identity, retry_failed)
        _done(out, fmt)  # OUT is a newsdesk output (or fail) before anything is rewritten
        retried = _drop_errors(out, fmt) if retry_failed else 0
        done_ids, done_lines, failed_before = _done(out, fmt)
        _write_meta(out, identity)
        report = BatchReport(failed_before=failed_before, retried=retried, out=str(out))
        _run(inp, out, fmt, desk, batch_size, fields, progress, report, done_ids, done_lines)
    return report


def _run(inp: Path, out: Path, fmt: str, desk: Newsdesk, batch_size: int, fields: FieldMap | None, progress: bool,
         report: BatchReport, done_ids: set, done_lines: set) -> None:
    """Read IN, predict and append to OUT. A little over 60 lines by design: the read loop and its `flush` stay
    together, so the exactly-once rules (skip what OUT has, one record per row, fsync per batch) read in one place."""
    # The topic column of an input file is not needed here: ignore it rather than fail rows on unknown labels.
    fmap = FieldMap({**(fields.columns if fields else {}), "topic": "\0", "sure": "\0"})
    seen: dict[str, int] = {}
    header = fmt == "csv" and not (out.exists() and out.stat().st_size > 0)
    bar = tqdm(total=_count_rows(inp) if progress else None, unit="art", desc=f"newsdesk batch {inp.name}",
               disable=not progress)
    pending: list[tuple[int, Article | None, dict | None]] = []  # (line, article to predict, or a finished record)

    with open(out, "a", encoding="utf-8", newline="") as fh:
        def flush():
            nonlocal header
            articles = [a for _, a, _ in pending if a is not None]
            preds = iter(_predict_each(desk, articles, batch_size))
            records = []
            for line, article, rec in pending:
                if article is not None:
                    pred = next(preds)
                    rec = _record(line=line, error=pred, id_=article.id) if isinstance(pred, str) else _record(pred, line)
                records.append(rec)
            fh.write(scrub(_format_records(records, fmt, header)))  # any text that cannot be written: U+FFFD
            fh.flush()
            os.fsync(fh.fileno())
            header = False
            report.written += len(records)
            report.failed += sum(1 for r in records if r.get("error"))
            bar.update(len(records))
            pending.clear()

        def done_before(row) -> bool:
            """OUT has this row: by id where the row has its own (not already seen in this run), else by line."""
            art = row.article
            own_id = art.id if art is not None else row.error.raw_id
            if own_id and own_id != f"{inp.name}:{row.line}" and own_id not in seen:
                return own_id in done_ids
            return row.line in done_lines

        try:
            for row in iter_rows(inp, fmap):
                report.read += 1
                art = row.article
                if done_before(row):
                    report.done_before += 1
                    bar.update(1)
                elif art is None:
                    pending.append((row.line, None,
                                    _record(line=row.line, error=row.error.reason, id_=row.error.raw_id)))
                elif art.id in seen:
                    pending.append((row.line, None, _record(
                        line=row.line, error=f"duplicate id {art.id!r} (first at line {seen[art.id]})")))
                else:
                    pending.append((row.line, art, None))
                if art is not None:
                    seen.setdefault(art.id, row.line)
                if sum(a is not None for _, a, _ in pending) >= batch_size or len(pending) >= 4 * batch_size:
                    flush()
        except DataError:  # the file breaks off (a truncated .gz): write the rows read before, then stop
            if pending:
                flush()
            raise
        if pending:
            flush()
    bar.close()


def _predict_each(desk: Newsdesk, articles: list[Article], batch_size: int) -> list:
    """Predictions for a batch; when the batch fails, each article alone, so one bad row fails alone."""
    if not articles:
        return []
    try:
        return desk.predict(articles, batch_size=batch_size)
    except Exception:  # noqa: BLE001 - whatever a model raises, the other rows of the batch go on
        results = []
        for a in articles:
            try:
                results.append(desk.predict(a))
            except Exception as e:  # noqa: BLE001 - becomes this row's error record
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                results.append(f"cannot predict: {first}" if isinstance(e, (ValueError, TypeError))
                               else f"cannot predict: {type(e).__name__}: {first}")
        return results
