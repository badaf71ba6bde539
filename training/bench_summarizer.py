"""`make bench-summarizer`: train the summarizer on the shared war corpus (unless --skip-training), score the
test split with the guard beside the lead baselines and the extractive selector, and time generation.
Prints a Markdown section and writes it into docs/BENCHMARKS.md.

    python -m training.bench_summarizer --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts/bench
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path


from data import read_articles, split_articles
from models.summarizer import Summarizer
from .bench_classifier import freeze_memory, long_articles, machine, write_section
from .evaluate import evaluate_summaries, format_summary_table
from .train_summarizer import SummarizerArgs, pairs_for, train_summarizer, write_output_vocab, write_paths

START, END = "<!-- bench-summarizer:start -->", "<!-- bench-summarizer:end -->"


def time_generation(summ: Summarizer, bodies: list[str], runs: int = 20) -> dict:
    """Latency of headline + teaser for one ~600-word article at batch 1, and batched throughput, on the paths
    the model serves and with the generator writing both outputs."""
    out = {"served": {"paths": summ.paths, **_time(summ, bodies, runs)}}
    if summ.paths != ("generator", "generator"):
        with summ.using_paths("generator"):
            out["generator"] = {"paths": summ.paths, **_time(summ, bodies, runs)}
    return out


def _time(summ: Summarizer, bodies: list[str], runs: int) -> dict:
    docs = long_articles(bodies, runs)
    summ.summarize(docs[:2])  # warm-up
    lat = []
    for d in docs:
        t = time.perf_counter()
        summ.summarize([d])
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    batch = (docs * 4)[:64]
    t = time.perf_counter()
    summ.summarize(batch, batch_size=16)
    rate = len(batch) / (time.perf_counter() - t)
    return {"articles": len(docs), "words": 600, "latency_ms_p50": round(statistics.median(lat), 1),
            "latency_ms_p90": round(lat[int(0.9 * len(lat)) - 1], 1), "batched_articles_per_s": round(rate, 2),
            "batch_size": 16}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--models", default="artifacts/bench")
    ap.add_argument("--headline-articles", type=int, default=600, help="random test articles scored for headlines")
    ap.add_argument("--max-minutes", type=float, default=60.0, help="training-loop budget")
    ap.add_argument("--out", default="docs/bench/summarizer.json")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    ap.add_argument("--skip-training", action="store_true", help="reuse MODELS/summarizer")
    a = ap.parse_args(argv)
    if not a.skip_training:
        train_summarizer(SummarizerArgs(data=[a.data], models=a.models, max_minutes=a.max_minutes))
    trained = json.loads((Path(a.models) / "summarizer" / "metrics.json").read_text())
    targs = trained["args"]
    existing = SummarizerArgs(**{**targs, "models": a.models, "progress": False})
    if not (Path(a.models) / "summarizer" / "output_vocab.json").exists():  # trained before training wrote it
        n = write_output_vocab(existing)
        print(f"wrote output_vocab.json ({n} token ids of the training targets) for the existing summarizer")
    if "paths" not in trained:  # trained before training chose each output's path
        trained["paths"] = write_paths(existing)
        trained["paths_added"] = True
    articles = [x for x in read_articles(a.data) if pairs_for(x, targs["min_body_words"])]
    test = split_articles(articles, valid=targs["valid_fraction"], test=targs["test_fraction"])["test"]
    with_teaser = [x for x in test if x.teaser and any(t == "teaser" for t, _ in pairs_for(x, targs["min_body_words"]))]
    heads = random.Random(0).sample(test, min(len(test), a.headline_articles))
    freeze_memory()
    summ = Summarizer.from_pretrained(Path(a.models) / "summarizer")
    scored = evaluate_summaries(summ, heads, batch_size=16, tasks=("headline",))
    scored.update(evaluate_summaries(summ, with_teaser, batch_size=16, tasks=("teaser",)))
    print(format_summary_table(scored))
    speed = time_generation(summ, [x.body for x in test])
    result = {"machine": machine(), "data": a.data, "training": trained["training"], "articles": trained["articles"],
              "training_pairs": trained["training_pairs"], "trained_max_minutes": targs.get("max_minutes") or 0,
              "test_headlines": len(heads), "paths": trained["paths"], "paths_added": trained.get("paths_added", False),
              "test_with_teaser": len(with_teaser), "scores": scored, "speed": speed}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    write_section(a.doc, markdown(result, a), START, END)


def markdown(r: dict, a) -> str:
    s = r["scores"]
    cols = [k for k in ("headline", "headline_lead", "headline_extractive", "teaser", "teaser_lead", "teaser_extractive")
            if k in s]
    served = {t: r["paths"][t]["path"] if t in r["paths"] else "generator" for t in ("headline", "teaser")}
    label = {"generator": "generator + guard", "extractive": "extractive path"}
    titles = {"headline": f"headline served ({label[served['headline']]})", "headline_lead": "first 12 words",
              "teaser": f"teaser served ({label[served['teaser']]})",
              "teaser_lead": "Lead-1", "teaser_extractive": "extractive selector",
              "headline_extractive": "extractive headline"}
    keys = [("n", "n"), ("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"), ("mean_words", "mean words"),
            ("novel_word_share", "novel-word share"), ("unsupported_share", "unsupported numbers"),
            ("fallback_share", "extractive (chosen path or fallback)")]
    head = "| | " + " | ".join(titles[c] for c in cols) + " |\n|" + " --- |" * (len(cols) + 1)
    rows = "\n".join(f"| {t} | " + " | ".join(
        (str(s[c][k]) if k == "n" else f"{100 * s[c][k]:.1f}" if k not in ("mean_words",) else f"{s[c][k]:.1f}")
        for c in cols) + " |" for k, t in keys)
    before = " / ".join(f"{t} {100 * s[t].get('unsupported_share_before_guard', 0):.1f}% numbers, "
                        f"{100 * s[t].get('unsupported_name_share_before_guard', 0):.1f}% names"
                        for t in ("headline", "teaser") if t in s and served[t] == "generator") or "no output generated"
    choice = "; ".join(f"{t}: {p['measure']} generator + guard {100 * p['generator']:.1f} vs extractive "
                       f"{100 * p['extractive']:.1f} (n={p['n']}): {p['path']}" for t, p in r["paths"].items())
    paths = "; ".join(f"{t}: " + ", ".join(f"{k} {v}" for k, v in s[t].get("sources", {}).items())
                      for t in ("headline", "teaser") if t in s)
    tr = r["training"]
    speed = "; ".join(
        f"{'served paths' if k == 'served' else 'generator writing both'} ({sp['paths'][0]} headline, {sp['paths'][1]} "
        f"teaser): p50 {sp['latency_ms_p50']} ms, p90 {sp['latency_ms_p90']} ms, batched (batch {sp['batch_size']}) "
        f"{sp['batched_articles_per_s']} articles/s" for k, sp in r["speed"].items())
    words, runs = r["speed"]["served"]["words"], r["speed"]["served"]["articles"]
    cmd = (f"python -m training.bench_summarizer --data {a.data} --models {a.models} "
           + ("--skip-training" if a.skip_training else f"--max-minutes {a.max_minutes:g}")
           + f" --headline-articles {a.headline_articles}")
    how = (f"scores the summarizer that the same command trained earlier with `--max-minutes "
           f"{r['trained_max_minutes']:g}`" if a.skip_training else "`make bench-summarizer` runs it with the defaults")
    return f"""{START}
Command: `{cmd}` ({how})
Machine: {r['machine']}. Run: {time.strftime('%Y-%m-%d')}.

Test split of the shared war corpus (duplicate-aware hash split; {r['articles']}): headlines scored on
{r['test_headlines']} random test articles with a body, teasers on all {r['test_with_teaser']} test articles with a reference
teaser. ROUGE F1 x100 (rouge-score, stemmed); shares in %.

Paths served, chosen on validation articles{' (by this command: the model predates the choice)' if r['paths_added'] else ''}: {choice}.

{head}
{rows}

Before the guard (generator's best beam, where it serves): {before}. Paths used: {paths}.

Training: {tr['train_seconds'] / 60:.1f} min training loop, {tr['total_seconds'] / 60:.1f} min in all (reading, encoding
the articles once, validation ROUGE, writing); encoder {tr['encoder']}; stopped: {tr['stop_reason']}.
Pairs: {r['training_pairs']}.

Speed (headline + teaser, guard included, one {words}-word article, batch 1, {runs} articles): {speed}.
{END}"""


if __name__ == "__main__":
    main()
