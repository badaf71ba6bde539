"""`make bench-classifier`: train on the shared labelled set, score the test split beside the TF-IDF
baseline, and time inference. Prints a Markdown section and writes it into docs/BENCHMARKS.md.

    python -m training.bench_classifier --data ../shared/data/topics/labeled.jsonl.gz --models artifacts/bench
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from data import read_articles, split_articles
from models.classifier import TopicClassifier
from .evaluate import evaluate
from .train_classifier import ClassifierArgs, train_classifier

START, END = "<!-- bench-classifier:start -->", "<!-- bench-classifier:end -->"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def time_inference(clf: TopicClassifier, texts, batch_size=32, single=30) -> dict:
    clf.logits(texts[:batch_size], batch_size=batch_size)  # warm-up
    t = time.perf_counter()
    clf.logits(texts, batch_size=batch_size)
    batched = len(texts) / (time.perf_counter() - t)
    lat = []
    for text in texts[:single]:
        t = time.perf_counter()
        clf.logits([text], batch_size=1)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    tokens = [min(len(ids), clf.max_length) for ids in clf.tokenizer(texts, truncation=True,
                                                                        max_length=clf.max_length)["input_ids"]]
    return {"articles_per_s": round(batched, 1), "batch_size": batch_size, "n": len(texts),
            "mean_tokens": round(statistics.mean(tokens), 1),
            "share_at_token_budget": round(sum(t == clf.max_length for t in tokens) / len(tokens), 3),
            "latency_ms_p50": round(lat[len(lat) // 2], 1), "latency_ms_p95": round(lat[int(len(lat) * 0.95) - 1], 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--models", default="artifacts/bench")
    ap.add_argument("--out", default="docs/bench/classifier.json")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    ap.add_argument("--skip-training", action="store_true", help="reuse MODELS/classifier")
    a = ap.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)

    if not a.skip_training:
        train_classifier(ClassifierArgs(data=[a.data], models=a.models))
    trained = json.loads((Path(a.models) / "classifier" / "metrics.json").read_text())
    shipped = evaluate(a.models, a.data, split="test")  # the int8 model as served, through the public CLI path
    test = [x.text for x in split_articles(read_articles(a.data))["test"]]
    speed = {}
    for name, quantize in (("int8", True), ("float32", False)):
        clf = TopicClassifier.from_pretrained(Path(a.models) / "classifier", quantize=quantize)
        speed[name] = time_inference(clf, test)
    result = {"machine": machine(), "data": a.data, "training": trained["training"],
              "split_sizes": trained["split_sizes"], "test_float32": trained["test"]["topic"],
              "test_int8": shipped["topic"], "test_baseline": shipped["topic_baseline"], "speed": speed}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    section = markdown(result, a)
    print(section)
    doc = Path(a.doc)
    if doc.exists() and START in doc.read_text():
        text = doc.read_text()
        doc.write_text(text[: text.index(START)] + section + text[text.index(END) + len(END):])
        print(f"updated {doc}")


def markdown(r: dict, a) -> str:
    m, q, b = r["test_float32"], r["test_int8"], r["test_baseline"]
    rows = [("accuracy", "accuracy"), ("macro-F1", "macro_f1"), ("ECE", "ece")]
    table = "\n".join(f"| {t} | {q[k]:.3f} | {m[k]:.3f} | {b[k]:.3f} |" for t, k in rows)
    table += "\n" + "\n".join(
        f"| F1 {lab} (n={q['per_class'][lab]['support']}) | {q['per_class'][lab]['f1']:.3f} | "
        f"{m['per_class'][lab]['f1']:.3f} | {b['per_class'][lab]['f1']:.3f} |" for lab in q["labels"])
    s8, s32 = r["speed"]["int8"], r["speed"]["float32"]
    tr = r["training"]
    return f"""{START}
Command: `make bench-classifier` (= `python -m training.bench_classifier --data {a.data} --models {a.models}`)
Machine: {r['machine']}. Run: {time.strftime('%Y-%m-%d')}.

Test split of the shared labelled set ({r['split_sizes']}; duplicate-aware hash split):

| metric | fine-tuned MiniLM, int8 (served) | same, float32 | TF-IDF + LR baseline |
| --- | --- | --- | --- |
{table}

Macro-F1 gain over the baseline (served model): {100 * (q['macro_f1'] - b['macro_f1']):+.1f} points.

Training: {tr['train_seconds'] / 60:.1f} min fine-tuning, {tr['total_seconds'] / 60:.1f} min in all (reading, baseline,
calibration, test scoring, writing); stopped: {tr['stop_reason']}.

Inference on the {s8['n']} test articles (mean {s8['mean_tokens']} tokens, {100 * s8['share_at_token_budget']:.0f}% cut at the 256-token budget):

| | batched (batch {s8['batch_size']}) | single article p50 | p95 |
| --- | --- | --- | --- |
| int8 (default) | {s8['articles_per_s']} articles/s | {s8['latency_ms_p50']} ms | {s8['latency_ms_p95']} ms |
| float32 | {s32['articles_per_s']} articles/s | {s32['latency_ms_p50']} ms | {s32['latency_ms_p95']} ms |
{END}"""


if __name__ == "__main__":
    main()
