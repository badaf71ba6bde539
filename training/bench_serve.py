"""`make bench-serve`: how fast newsdesk answers, the three ways users meet it, on trained models.

1. predict() on one 600-word article, all outputs (topic, headline, teaser), batch 1: p50/p95 latency.
2. The batch script over test articles written to a JSONL file: articles/s end to end (reading, writing included).
3. The demo served in its own process (`newsdesk serve`), 8 and then 48 gradio_client clients calling /predict for
   60 s each: requests served, errors (queue-full ones counted apart: the waiting line holds 32), p50/p95 latency.
Articles come from the test split of the shared war corpus. Prints a Markdown section and writes it into
docs/BENCHMARKS.md; the raw numbers go to docs/bench/serve.json.

    python -m training.bench_serve --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts
"""
from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from data import read_articles, split_articles
from serve.api import Newsdesk
from serve.batch import run_batch
from .bench_classifier import freeze_memory, long_articles, machine, write_section
from models.base import models_dir

START, END = "<!-- bench-serve:start -->", "<!-- bench-serve:end -->"


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def time_predict(desk: Newsdesk, bodies: list[str], runs: int = 20) -> dict:
    docs = long_articles(bodies, runs)
    desk.predict(docs[:2])  # warm-up (and model loading)
    lat = []
    for d in docs:
        t = time.perf_counter()
        desk.predict(d)
        lat.append((time.perf_counter() - t) * 1000)
    return {"articles": len(docs), "words": 600, "p50_ms": round(statistics.median(lat), 1), "p95_ms": pct(lat, 0.95)}


def time_batch(desk: Newsdesk, articles, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(json.dumps({"id": a.id, "headline": a.headline, "body": a.body}) + "\n"
                               for a in articles[:n]))
        t = time.perf_counter()
        report = run_batch(src, out, desk=desk, progress=False)
        seconds = time.perf_counter() - t
    words = statistics.median(len(a.body.split()) for a in articles[:n])
    return {"articles": report.written, "failed": report.failed, "seconds": round(seconds, 1),
            "articles_per_s": round(report.written / seconds, 2), "median_words": words}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def demo_server(models: str):
    """`newsdesk serve` in its own process, on a free port, until the block ends; yields its URL."""
    from gradio_client import Client

    port = free_port()
    log = tempfile.TemporaryFile("w+")  # the server's stderr: a pipe nobody reads would fill and stall it
    server = subprocess.Popen([sys.executable, "-m", "serve.cli", "serve", "--models", models, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while True:
            try:
                Client(url, verbose=False)
                break
            except Exception:
                if server.poll() is not None or time.time() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the demo did not start: {log.read()[-2000:]}")
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def load_test(url: str, bodies: list[str], clients: int = 8, seconds: float = 60.0) -> dict:
    """`clients` threads, each with its own gradio_client, calling /predict on the demo at `url` for `seconds`."""
    from gradio_client import Client

    Client(url, verbose=False).predict(bodies[0], "", api_name="/predict")  # warm-up
    latencies, errors, lock = [], [], threading.Lock()
    stop = time.time() + seconds

    def worker(k: int):
        client = Client(url, verbose=False)
        i = k
        while time.time() < stop:
            body = bodies[i % len(bodies)]
            i += clients
            t = time.perf_counter()
            try:
                client.predict(body, "", api_name="/predict")
                with lock:
                    latencies.append((time.perf_counter() - t) * 1000)
            except Exception as e:  # every failure is counted and shown
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    queue_full = sum("full" in e.lower() for e in errors)
    return {"clients": clients, "seconds": round(wall, 1), "requests": len(latencies), "errors": len(errors),
            "queue_full": queue_full, "error_examples": sorted(set(errors))[:3], "p50_ms": pct(latencies, 0.5) if latencies else None,
            "p95_ms": pct(latencies, 0.95) if latencies else None, "max_ms": round(max(latencies), 1) if latencies else None,
            "requests_per_s": round(len(latencies) / wall, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="articles with a body (the test split is used)")
    ap.add_argument("--models", default=str(models_dir()))
    ap.add_argument("--runs", type=int, default=20, help="articles timed one at a time through predict()")
    ap.add_argument("--batch-articles", type=int, default=200)
    ap.add_argument("--clients", default="8,48", help="comma-separated numbers of concurrent demo clients")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", default="docs/bench/serve.json")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    a = ap.parse_args(argv)
    test = [x for x in split_articles([x for x in read_articles(a.data, skip_bad=True) if x.body])["test"]]
    bodies = [x.body for x in test]
    freeze_memory()
    desk = Newsdesk(a.models)
    result = {"machine": machine(), "data": a.data, "models": a.models}
    result["predict"] = time_predict(desk, bodies, a.runs)
    print("predict:", result["predict"], flush=True)
    result["batch"] = time_batch(desk, test, a.batch_articles)
    print("batch:", result["batch"], flush=True)
    result["methods"] = desk.summarizer.methods
    if desk.summarizer.generator is not None and result["methods"] != ("generator", "generator"):
        with desk.summarizer.using_method("generator"):  # also time the generator writing both outputs
            result["generator"] = {"predict": time_predict(desk, bodies, a.runs),
                                   "batch": time_batch(desk, test, a.batch_articles)}
        print("generator writing both:", result["generator"], flush=True)
    result["demos"] = []
    with demo_server(a.models) as url:  # one server; each number of clients in turn
        for n in [int(c) for c in str(a.clients).split(",") if c.strip()]:
            result["demos"].append(load_test(url, bodies[:200], n, a.seconds))
            print("demo:", result["demos"][-1], flush=True)
    result["demo"] = result["demos"][0]
    result["versions"] = desk.versions
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    write_section(a.doc, markdown(result, a), START, END)


def markdown(r: dict, a) -> str:
    p, b, d = r["predict"], r["batch"], r["demo"]
    demo_rows = "\n".join(
        f"| demo `/predict`, {x['clients']} concurrent gradio_client clients for {x['seconds']} s | {x['requests']} "
        f"requests served, {x['errors']} errors ({x.get('queue_full', 0)} queue full); p50 {x['p50_ms']} ms, "
        f"p95 {x['p95_ms']} ms, max {x['max_ms']} ms; {x['requests_per_s']} requests/s | {demo_target(x['clients'])} |"
        for x in r.get("demos", [d]))
    return f"""{START}
Command: `python -m training.bench_serve --data {a.data} --models {a.models} --runs {a.runs} --batch-articles {a.batch_articles} --clients {a.clients} --seconds {a.seconds:g}` (`make bench-serve` runs it on the models in `artifacts/`)
Machine: {r['machine']}. Run: {time.strftime('%Y-%m-%d')}. Models: {', '.join(f'{k} {v}' for k, v in r['versions'].items())}.

| what | measured | target |
| --- | --- | --- |
| `predict()`, one {p['words']}-word article, all outputs, batch 1 ({p['articles']} articles) | p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms | p50 <= 100 ms |
| `newsdesk batch`, {b['articles']} test articles (median {b['median_words']:.0f} words), JSONL in and out | {b['articles_per_s']} articles/s ({b['seconds']} s, {b['failed']} failed) | >= 10 articles/s |
{demo_rows}{generator_rows(r)}

Summarizer methods served: headline {r['methods'][0]}, teaser {r['methods'][1]}.

The demo runs one article at a time (queue concurrency 1: both cores go to each request), so with {d['clients']} clients
a request mostly waits in line: expect about {d['clients']} x the single-request time.
{END}"""


def demo_target(clients: int) -> str:
    """More clients than the queue holds get a clear 'queue full' reply (back-pressure), never another error."""
    from serve.app import QUEUE_SIZE
    if clients <= QUEUE_SIZE:
        return "no errors"
    return f"no errors but 'queue full' (at most {QUEUE_SIZE} requests wait)"


def generator_rows(r: dict) -> str:
    if "generator" not in r:
        return ""
    p, b = r["generator"]["predict"], r["generator"]["batch"]
    return (f"\n| the same `predict()` with the generator writing both outputs | p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms "
            f"| p50 <= 200 ms |\n| the same `newsdesk batch` with the generator writing both outputs | "
            f"{b['articles_per_s']} articles/s ({b['seconds']} s, {b['failed']} failed) | >= 10 articles/s |")


if __name__ == "__main__":
    main()
