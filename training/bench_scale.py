"""`make bench-scale`: the batch script on Ray Data beside the local engine, and the classifier on ONNX Runtime
beside torch, on trained models, in one run.

1. Engines: the same JSONL file of war-corpus test bodies (`--articles` of them) through `newsdesk batch` with the
   local engine, then with `--engine ray` on 1 and 2 workers (a local Ray on this machine's cores): articles/s end
   to end (reading, all outputs, writing), Ray's start-up measured apart, and the peak memory of one actor.
2. Classifier precisions on the labelled test split: float32, bfloat16, onnx, onnx-int8, batched (batch 32) and one
   article at a time, with the labels each changes against float32; and the naive way (the float32 model called
   one article at a time, in input order), which the served precision is compared with as a ratio.
Prints a Markdown section, writes it into docs/BENCHMARKS.md and the raw numbers to docs/bench/scale.json.

    python -m training.bench_scale --war ../shared/data/news/ukraine_war.jsonl.gz \\
        --labeled ../shared/data/topics/labeled.jsonl.gz --models artifacts/bench
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from data import read_articles, split_articles
from models import onnx_runtime
from models.classifier import TopicClassifier
from serve.batch import run_batch
from serve.ray_engine import Predictor, run_ray_batch
from .bench_classifier import freeze_memory, machine, time_inference, write_section

START, END = "<!-- bench-scale:start -->", "<!-- bench-scale:end -->"


def engines(war: str, models: str, n: int) -> dict:
    import ray

    test = [a for a in split_articles([a for a in read_articles(war, skip_bad=True) if a.body])["test"]][:n]
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    src = tmp / "articles.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in test))
    out = {"articles": len(test), "median_words": float(np.median([len(a.body.split()) for a in test]))}
    t = time.perf_counter()
    report = run_batch(src, tmp / "local.jsonl", models=models, progress=False)
    out["local"] = {"seconds": round(time.perf_counter() - t, 1), "failed": report.failed}
    for workers in (1, 2):
        t = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        start = time.perf_counter() - t
        t = time.perf_counter()
        report = run_ray_batch(str(src), tmp / f"ray{workers}", models=models, workers=workers, progress=False)
        seconds = time.perf_counter() - t
        actor = ray.remote(num_cpus=1)(Predictor).remote(models, 1)
        memory = ray.get(actor.memory_mb.remote())
        ray.shutdown()
        out[f"ray_{workers}"] = {"seconds": round(seconds, 1), "ray_start_seconds": round(start, 1),
                                 "failed": report.failed, "actor_peak_rss_mb": memory}
    for name in ("local", "ray_1", "ray_2"):
        out[name]["articles_per_s"] = round(len(test) / out[name]["seconds"], 2)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def precisions(labeled: str, models: str) -> dict:
    directory = Path(models) / "classifier"
    if not onnx_runtime.has_export(directory):  # a model trained before the export existed
        TopicClassifier.export_onnx(directory)
    test_articles = split_articles(read_articles(labeled))["test"]
    reader = TopicClassifier.from_pretrained(directory, precision="float32")
    texts = [reader.input_text(a) for a in test_articles]
    freeze_memory()
    out, base, clfs = {}, None, {}
    for name in ("float32", "bfloat16", "onnx", "onnx-int8"):
        clfs[name] = clf = TopicClassifier.from_pretrained(directory, precision=name)
        out[name], probs = time_inference(clf, texts)
        labels = probs.argmax(1)
        base = labels if base is None else base
        out[name]["labels_changed_vs_float32"] = int((labels != base).sum())
        out[name]["label_flips_batch1_vs_32"] = int((clf.probabilities(texts, batch_size=1).argmax(1) != labels).sum())
    for _ in range(2):  # the machine drifts: two more batched passes, in turn, and each variant's best of three
        for name, clf in clfs.items():
            if name != "bfloat16":  # emulated on CPUs without native bfloat16: minutes a pass, never the fastest
                t = time.perf_counter()
                clf.probabilities(texts, batch_size=32)
                out[name]["articles_per_s"] = max(out[name]["articles_per_s"], round(len(texts) / (time.perf_counter() - t), 1))
    naive = TopicClassifier.from_pretrained(directory, precision="float32")
    t = time.perf_counter()
    for text in texts:  # the plain way: the model called one article at a time, in input order
        with torch.inference_mode():
            naive.model(**naive.tokenizer([text], truncation=True, max_length=naive.max_length, return_tensors="pt"))
    out["naive"] = {"articles_per_s": round(len(texts) / (time.perf_counter() - t), 1), "n": len(texts)}
    out["served"] = TopicClassifier.from_pretrained(directory).precision
    return out


def markdown(r: dict, a) -> str:
    e, p = r["engines"], r["precisions"]
    engine_rows = "\n".join(
        f"| {label} | {e[k]['articles_per_s']} articles/s ({e[k]['seconds']} s, {e[k]['failed']} failed) | "
        f"{'' if k == 'local' else f'''{e[k]['articles_per_s'] / e['local']['articles_per_s']:.2f}x local; Ray start {e[k]['ray_start_seconds']} s apart; one actor peaks at {e[k]['actor_peak_rss_mb']:.0f} MB'''} |"
        for k, label in (("local", "local engine"), ("ray_1", "`--engine ray --workers 1`"),
                         ("ray_2", "`--engine ray --workers 2`")))
    f32, bf16 = p["float32"], p["bfloat16"]
    precision_rows = "\n".join(
        f"| {name}{' (served: auto)' if name == p['served'] else ''} | {p[name]['articles_per_s']} articles/s | "
        f"{p[name]['articles_per_s'] / bf16['articles_per_s']:.1f}x | {p[name]['articles_per_s'] / p['naive']['articles_per_s']:.1f}x | "
        f"{p[name]['latency_ms_p50']} ms | {p[name]['labels_changed_vs_float32']} of {f32['n']} | "
        f"{p[name]['label_flips_batch1_vs_32']} |"
        for name in ("float32", "bfloat16", "onnx", "onnx-int8"))
    return f"""{START}
Command: `python -m training.bench_scale --war {a.war} --labeled {a.labeled} --models {a.models} --articles {a.articles}` (`make bench-scale`)
Machine: {r['machine']}. Run: {time.strftime('%Y-%m-%d')}.

**Engines**: `newsdesk batch` over the first {e['articles']} test-split bodies of the war corpus (median
{e['median_words']:.0f} words), all outputs, JSONL in and out, same models, one after the other in this run:

| engine | end to end | against the local engine |
| --- | --- | --- |
{engine_rows}

On one 2-core machine Ray cannot add cores: one actor (one torch thread set to the actor's CPU share) is slower than
the local engine by Ray's overhead (object store, serialisation, the actor's start), and two single-threaded actors
use the two cores about as well as one two-threaded process. Ray's gain is across machines: the per-worker rate
times the workers (docs/ARCHITECTURE.md, "At scale").

**Classifier precisions** on the {f32['n']} labelled test articles (blend with TF-IDF as served), batch 32; the
naive baseline calls the float32 model one article at a time in input order, encoder only, no blend
({p['naive']['articles_per_s']} articles/s). This CPU has no native bfloat16 (AVX2 only), so torch emulates it:
the "vs bfloat16" column is the issue's yardstick, "vs naive" and float32 the fairer ones.

| precision | batched | vs bfloat16 | vs naive | single article p50 | labels changed vs float32 | labels changed, batch 1 vs 32 |
| --- | --- | --- | --- | --- | --- | --- |
{precision_rows}

"auto" serves the fastest variant that changes at most 1% of float32's labels where onnxruntime is installed
(models/onnx_runtime.py `SERVED`), else bfloat16 on CPUs with native bfloat16, else float32. Batched figures are
each variant's best of three passes taken in turn (the machine drifts); onnx-int8 scales activations per batch, so
a few labels depend on batch neighbours (last column).
{END}"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--war", required=True, help="bodies for the engines (the test split is used)")
    ap.add_argument("--labeled", required=True, help="labelled articles for the precisions (the test split)")
    ap.add_argument("--models", default="artifacts/bench")
    ap.add_argument("--articles", type=int, default=400, help="bodies through each engine")
    ap.add_argument("--out", default="docs/bench/scale.json")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    ap.add_argument("--from-json", action="store_true", help="only rewrite the section from --out's numbers")
    a = ap.parse_args(argv)
    if a.from_json:
        write_section(a.doc, markdown(json.loads(Path(a.out).read_text()), a), START, END)
        return
    torch.set_num_threads(os.cpu_count() or 1)
    result = {"machine": machine(), "precisions": precisions(a.labeled, a.models)}
    print("precisions:", json.dumps(result["precisions"]), flush=True)
    result["engines"] = engines(a.war, a.models, a.articles)
    print("engines:", json.dumps(result["engines"]), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    write_section(a.doc, markdown(result, a), START, END)


if __name__ == "__main__":
    main()
