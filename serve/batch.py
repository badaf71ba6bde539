"""The batch script: `newsdesk batch IN OUT [--models DIR]`, every article of a file through predict().

IN is JSONL, JSONL.gz or CSV (data/articles.py readers); OUT is .jsonl or .csv. Each input row becomes exactly one
output record: a prediction, or an error record with the row's line number and what is wrong with it. Records are
appended and flushed (fsync) after every batch, so a crash or Ctrl-C loses at most the batch in flight; running the
same command again skips the rows OUT already has. The exit status is 1 when any row failed.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data import LABELS, Article, DataError, FieldMap, iter_rows
from data.articles import _open_bytes
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
    out: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.failed_before == 0

    def __str__(self) -> str:
        text = (f"{self.read} rows read: {self.written} written to {self.out} ({self.failed} failed), "
                f"{self.done_before} already there")
        if self.failed_before:
            text += f" ({self.failed_before} of them failed)"
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
                        records.append(json.loads(text))
                    except json.JSONDecodeError:
                        raise ValueError(f"{out}:{n}: not a newsdesk batch output (bad JSON); "
                                         f"choose another output file or delete this one") from None
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


def _record(pred=None, line: int | None = None, error: str | None = None, id_: str | None = None) -> dict:
    if error is not None:
        return {"id": id_, "line": line, "error": error}
    return {"id": pred.id, "line": line, "topic": pred.topic, "probabilities": pred.probabilities,
            "headline": pred.headline, "teaser": pred.teaser, "headline_source": pred.headline_source,
            "teaser_source": pred.teaser_source, "evidence": pred.evidence, "warnings": pred.warnings,
            "models": pred.models, "error": None}


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
        with _open_bytes(path) as fh:
            n = sum(1 for line in fh if line.strip())
        return n - 1 if path.name.lower().endswith((".csv", ".csv.gz")) else n
    except Exception:  # the progress bar's total is a nicety; reading errors surface below
        return None


def run_batch(inp, out, models=None, batch_size: int = 16, fields: FieldMap | None = None, progress: bool = True,
              desk: Newsdesk | None = None) -> BatchReport:
    inp, out = Path(inp), Path(out)
    fmt = _out_format(out)
    if batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    _open_bytes(inp).close()  # a missing or unreadable input fails here, before OUT is touched
    desk = desk or load(models)
    desk.load_models()  # or fail, saying how to train them, before reading anything
    done_ids, done_lines, failed_before = _done(out, fmt)
    report = BatchReport(failed_before=failed_before, out=str(out))
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
            fh.write(_format_records(records, fmt, header))
            fh.flush()
            os.fsync(fh.fileno())
            header = False
            report.written += len(records)
            report.failed += sum(1 for r in records if r.get("error"))
            bar.update(len(records))
            pending.clear()

        try:
            for row in iter_rows(inp, fmap):
                report.read += 1
                art = row.article
                if row.line in done_lines or (art is not None and art.id in done_ids and art.id not in seen):
                    report.done_before += 1  # OUT has this row already (by line; by id if the input's lines moved)
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
    return report


def _predict_each(desk: Newsdesk, articles: list[Article], batch_size: int) -> list:
    """Predictions for a batch; when the batch fails, each article alone, so one bad row fails alone."""
    if not articles:
        return []
    try:
        return desk.predict(articles, batch_size=batch_size)
    except (ValueError, TypeError):
        results = []
        for a in articles:
            try:
                results.append(desk.predict(a))
            except (ValueError, TypeError) as e:
                results.append(f"cannot summarize: {e}")
        return results
