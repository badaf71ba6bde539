"""`newsdesk batch IN OUT --engine ray`: the batch script as a Ray Data pipeline, resumable by shard.

    newsdesk batch 'archive/*.jsonl.gz' results/ --engine ray [--address ADDR] [--workers N]

IN is a JSONL, JSONL.gz or CSV file, a folder of them or a glob; OUT is a folder. Every row gets exactly one record,
as with the local engine (serve/batch.py): the same prediction, or an error record with its file and line; the exit
status is 1 when any row failed.

1. The driver reads the rows with newsdesk's own readers (data/articles.py: the same rules for ids, duplicates and
   bad rows as the local engine) and gives each a shard, `sha256(id, or file:line) mod SHARDS`.
2. The rows of the shards not yet written become a Ray dataset, in shard order; `map_batches` runs `Predictor`, a
   callable class that loads the models once per actor, on `--workers` actors.
3. The driver streams the results back in order and writes each shard as soon as its last row is in:
   OUT/shard-00007-of-00064.jsonl, written to a temporary file, fsynced, then renamed.

Resuming: a shard file exists whole or not at all, so a run killed at any moment and started again skips the
shards written and redoes the others: every id exactly once. OUT/manifest.json records the input and the shard
count; a rerun against another input, or with another shard count, is refused.
"""
from __future__ import annotations

import glob
import logging
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from data import DataError, FieldMap, iter_rows
from data.articles import file_format, scrub
from .batch import BatchReport, _input_identity, _predict_each, _record

DEFAULT_SHARDS = 64


def input_files(spec: str) -> list[Path]:
    """The files a batch reads: a file, every .jsonl/.jsonl.gz/.csv file of a folder, or the files a glob matches."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    elif path.exists():
        files = [path]
    else:
        files = sorted(Path(p) for p in glob.glob(spec) if Path(p).is_file())
        if not files:
            raise DataError(spec, None, "file not found (and no file matches it as a glob)")
    for f in files:
        file_format(f)  # an unknown type is an error before anything runs
    if not files:
        raise DataError(spec, None, "the folder has no input files")
    return files


def shard_of(key: str, shards: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:8], "big") % shards


@dataclass
class Plan:
    """Every input row, placed: `todo` the rows to predict (as dicts, by shard), `records` the error records."""
    shards: int
    rows: dict = field(default_factory=dict)      # shard -> number of rows
    todo: dict = field(default_factory=dict)      # shard -> [row dict to predict]
    records: dict = field(default_factory=dict)   # shard -> [finished error record]
    read: int = 0


def plan(files: list[Path], shards: int, fields: FieldMap | None = None) -> Plan:
    """Read every row (the local engine's rules: bad rows and repeated ids become error records) and shard it."""
    fmap = FieldMap({**(fields.columns if fields else {}), "topic": "\0", "sure": "\0"})  # labels not needed
    out, seen = Plan(shards), {}
    for path in files:
        try:
            for row in iter_rows(path, fmap):
                out.read += 1
                art = row.article
                own_id = art.id if art is not None else row.error.raw_id
                key = own_id if own_id and own_id != f"{path.name}:{row.line}" else f"{path.resolve()}:{row.line}"
                shard = shard_of(key, shards)
                out.rows[shard] = out.rows.get(shard, 0) + 1
                base = {"file": str(path), "line": row.line}
                if art is None:
                    rec = {**_record(line=row.line, error=row.error.reason, id_=row.error.raw_id), **base}
                    out.records.setdefault(shard, []).append(rec)
                elif art.id in seen:
                    first, line = seen[art.id]
                    where = f"line {line}" + ("" if first == path else f" of {first}")
                    rec = {**_record(line=row.line, error=f"duplicate id {art.id!r} (first at {where})"), **base}
                    out.records.setdefault(shard, []).append(rec)
                else:
                    seen[art.id] = (path, row.line)
                    out.todo.setdefault(shard, []).append({**base, "shard": shard,  # the article as JSON: one column
                                                           "article": json.dumps(art.to_dict(), ensure_ascii=False)})
        except DataError as e:  # a file that breaks off: its rows read so far stand, the rest is one error record
            shard = shard_of(f"{path.resolve()}:broken", shards)
            out.rows[shard] = out.rows.get(shard, 0) + 1
            out.records.setdefault(shard, []).append({"id": None, "line": e.line, "error": e.reason,
                                                      "file": str(path)})
    return out


class Predictor:
    """Ray Data's callable class: the models loaded once per actor, then a batch of rows -> their records (JSON)."""

    def __init__(self, models: str, threads: int = 1):
        import torch
        from .api import load

        torch.set_num_threads(threads)
        self.desk = load(models)
        self.desk.load_models()

    def memory_mb(self) -> float:
        """This actor's peak resident memory (the models loaded), in MB."""
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def __call__(self, batch: dict) -> dict:
        from data import Article

        n = len(batch["line"])
        articles = [Article(**json.loads(_plain(batch["article"][i]))) for i in range(n)]
        preds = _predict_each(self.desk, articles, batch_size=n)
        records = []
        for i, (article, pred) in enumerate(zip(articles, preds)):
            line = int(batch["line"][i])
            rec = _record(line=line, error=pred, id_=article.id) if isinstance(pred, str) else _record(pred, line)
            records.append(json.dumps({**rec, "file": _plain(batch["file"][i])}, ensure_ascii=False))
        return {"shard": batch["shard"], "record": records}


def _plain(value):
    """A Ray batch cell as Python (numpy str/None cells)."""
    return None if value is None else (value.item() if hasattr(value, "item") else value)


def shard_path(out: Path, shard: int, shards: int) -> Path:
    return out / f"shard-{shard:05d}-of-{shards:05d}.jsonl"


def write_shard(out: Path, shard: int, shards: int, records: list[dict]) -> None:
    """The shard's records, sorted by file and line, written whole or not at all."""
    records = sorted(records, key=lambda r: (r.get("file") or "", r.get("line") or 0))
    final, tmp = shard_path(out, shard, shards), out / f".shard-{shard:05d}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(scrub("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def _manifest(out: Path, files: list[Path], shards: int) -> None:
    """Record (or check, on a rerun) which input and shard count OUT belongs to."""
    want = {"written_by": "newsdesk batch --engine ray", "inputs": [str(f.resolve()) for f in files],
            "sizes": [f.stat().st_size for f in files], "shards": shards,
            "first_rows_sha256": [_input_identity(f)["first_rows_sha256"] for f in files]}
    path = out / "manifest.json"
    if path.exists():
        have = json.loads(path.read_text(encoding="utf-8"))
        if have != want:
            raise ValueError(f"{out} holds the results of another input or shard count ({path}): write to a new "
                             f"folder, or delete {out}")
        return
    if any(out.glob("shard-*.jsonl")):
        raise ValueError(f"{out} has shard files but no manifest.json: write to a new folder, or delete them")
    tmp = out / f".manifest.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(want, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def run_ray_batch(inp: str, out, models=None, workers: int = 1, address: str | None = None,
                  shards: int = DEFAULT_SHARDS, batch_size: int = 16, fields: FieldMap | None = None,
                  progress: bool = True) -> BatchReport:
    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray Data: pip install -e '.[ray]'") from None
    from models.base import models_dir
    from .api import load

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: with --engine ray, OUT is a folder (one file per shard)")
    if workers < 1 or shards < 1 or batch_size < 1:
        raise ValueError("--workers, --shards and --batch-size must be at least 1")
    files = input_files(inp)
    models = str(models_dir(models))
    load(models).load_models()  # fail now, saying how to train them, not inside an actor
    out.mkdir(parents=True, exist_ok=True)
    _manifest(out, files, shards)
    work = plan(files, shards, fields)
    report = BatchReport(read=work.read, out=str(out))
    finished = {s for s in work.rows if shard_path(out, s, shards).exists()}
    for s in finished:
        recs = [json.loads(line) for line in open(shard_path(out, s, shards), encoding="utf-8") if line.strip()]
        report.done_before += len(recs)
        report.failed_before += sum(1 for r in recs if r.get("error"))
    pending = sorted(s for s in work.rows if s not in finished)
    results = {s: list(work.records.get(s, [])) for s in pending}

    def finish(s):
        write_shard(out, s, shards, results.pop(s))
        report.written += work.rows[s]

    for s in [s for s in pending if not work.todo.get(s)]:  # shards of error records only
        report.failed += len(results[s])
        finish(s)
    rows = [r for s in pending for r in work.todo.get(s, [])]
    if rows:
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=None if address else os.cpu_count(), include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING, ignore_reinit_error=True)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # results come back in shard order: shards finish one by one
        ctx.enable_progress_bars = progress
        node_cpus = max((n.get("Resources", {}).get("CPU", 1) for n in ray.nodes() if n.get("Alive")), default=1)
        cpus = max(1, min(int(ray.available_resources().get("CPU", 1)) // workers, int(node_cpus)))  # fits a node
        ds = ray.data.from_items(rows).map_batches(
            Predictor, fn_constructor_kwargs={"models": models, "threads": cpus}, batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus, batch_format="numpy")
        for row in ds.iter_rows():
            s, rec = int(row["shard"]), json.loads(row["record"])
            results[s].append(rec)
            if len(results[s]) == work.rows[s]:
                report.failed += sum(1 for r in results[s] if r.get("error"))
                finish(s)
    return report
