"""`make bench-summarizer`: train the summarizer on the shared war corpus (unless --skip-training), score the
test split beside the lead baselines and the extractive path, count form faults, time it, and print 30 random
test articles' outlet headline and teaser beside newsdesk's into MODELS/summarizer_examples.md (never into the
repository: the corpus is third-party text). Prints a Markdown section and writes it into docs/BENCHMARKS.md.

    python -m training.bench_summarizer --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts/bench
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter
from pathlib import Path

from data import read_articles, split_articles
from models.extractive import is_furniture
from models.parse import parse
from models.compressive import repeats
from models.summarizer import CUT_WARNING, Summarizer
from .bench_classifier import freeze_memory, long_articles, machine, write_section
from .evaluate import evaluate_summaries, format_summary_table
from .train_summarizer import SummarizerArgs, pairs_for, train_summarizer

START, END = "<!-- bench-summarizer:start -->", "<!-- bench-summarizer:end -->"
_DANGLING_POS = {"DET", "ADP", "CCONJ", "SCONJ", "AUX", "PART"}


def time_summaries(summ: Summarizer, bodies: list[str], runs: int = 20) -> dict:
    """Latency of headline + teaser for one 600-word article at batch 1, and batched throughput."""
    docs = long_articles(bodies, runs)
    summ.summarize(docs[:2])  # warm-up (loads spaCy and MiniLM)
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


def form_faults(summaries) -> dict:
    """Counts of headlines ending on a determiner, preposition, conjunction, auxiliary or particle (spaCy's tags
    of the headline itself; a phrasal verb's particle, tag RP, as in "banks freezing up", completes it), of outputs that are site text, of teasers repeating the headline's clause, and of headlines the summarizer had to cut
    at the word limit inside a phrase (its own warning: the extractive fallback when no phrase of the sentence ends
    within the limit)."""
    docs = parse([s.headline for s in summaries])
    ends = [next((t for t in reversed(d) if not t.is_punct), None) for d in docs]
    return {"n": len(summaries),
            "dangling_end": sum(t is not None and t.pos_ in _DANGLING_POS and t.tag_ != "RP" for t in ends),
            "site_text": sum(is_furniture(s.headline) or is_furniture(s.teaser) for s in summaries),
            "teaser_repeats_headline": sum(repeats(s.headline, s.teaser) for s in summaries),
            "headline_cut_inside_phrase": sum(any(w.startswith(CUT_WARNING) for w in s.warnings)
                                              for s in summaries),
            "headline_sources": dict(Counter(s.headline_source for s in summaries)),
            "teaser_sources": dict(Counter(s.teaser_source for s in summaries)),
            "warnings": dict(Counter(w.split(":")[0] for s in summaries for w in s.warnings).most_common(8))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--models", default="artifacts/bench")
    ap.add_argument("--headline-articles", type=int, default=600, help="random test articles scored for headlines")
    ap.add_argument("--examples", type=int, default=30, help="random test articles printed beside the outlet's")
    ap.add_argument("--max-minutes", type=float, default=SummarizerArgs.max_minutes, help="the training run's budget (default: SummarizerArgs)")
    ap.add_argument("--out", default="docs/bench/summarizer.json")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    ap.add_argument("--skip-training", action="store_true", help="reuse MODELS/summarizer")
    a = ap.parse_args(argv)
    if not a.skip_training:
        train_summarizer(SummarizerArgs(data=[a.data], models=a.models, max_minutes=a.max_minutes))
    trained = json.loads((Path(a.models) / "summarizer" / "metrics.json").read_text())
    targs = trained["args"]
    articles = [x for x in read_articles(a.data) if pairs_for(x, targs["min_body_words"])]
    test = split_articles(articles, valid=targs["valid_fraction"], test=targs["test_fraction"])["test"]
    with_teaser = [x for x in test if any(t == "teaser" for t, _ in pairs_for(x, targs["min_body_words"]))]
    heads = random.Random(0).sample(test, min(len(test), a.headline_articles))
    freeze_memory()
    summ = Summarizer.from_pretrained(Path(a.models) / "summarizer")
    scored = evaluate_summaries(summ, heads, batch_size=16, tasks=("headline",))
    scored.update(evaluate_summaries(summ, with_teaser, batch_size=16, tasks=("teaser",)))
    print(format_summary_table(scored))
    served = summ.summarize([x.body for x in heads], batch_size=16)
    form = form_faults(served)
    picks = random.Random(1).sample(range(len(heads)), min(a.examples, len(heads)))
    examples = [{"id": heads[i].id, "source": heads[i].source, "outlet_headline": heads[i].headline,
                 "outlet_teaser": heads[i].teaser, "headline": served[i].headline, "teaser": served[i].teaser,
                 "headline_source": served[i].headline_source, "teaser_source": served[i].teaser_source} for i in picks]
    speed = time_summaries(summ, [x.body for x in test])
    result = {"machine": machine(), "data": a.data, "training": trained["training"], "articles": trained["articles"],
              "trained_max_minutes": targs.get("max_minutes") or 0, "test_headlines": len(heads),
              "test_with_teaser": len(with_teaser), "scores": scored, "form": form, "speed": speed,
              "examples": len(examples)}
    (Path(a.models) / "summarizer_examples.md").write_text(examples_table(examples), encoding="utf-8")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    write_section(a.doc, markdown(result, a), START, END)


def _cell(text) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def markdown(r: dict, a) -> str:
    s = r["scores"]
    cols = [k for k in ("headline", "headline_lead", "headline_extractive", "teaser", "teaser_lead", "teaser_extractive")
            if k in s]
    titles = {"headline": "headline served", "headline_lead": "first 12 words", "headline_extractive": "extractive headline",
              "teaser": "teaser served", "teaser_lead": "Lead-1", "teaser_extractive": "extractive teaser"}
    keys = [("n", "n"), ("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"), ("mean_words", "mean words"),
            ("novel_word_share", "novel-word share"), ("unsupported_share", "unsupported numbers"),
            ("fallback_share", "extractive fallback")]
    head = "| | " + " | ".join(titles[c] for c in cols) + " |\n|" + " --- |" * (len(cols) + 1)
    rows = "\n".join(f"| {t} | " + " | ".join(
        (str(s[c][k]) if k == "n" else f"{s[c][k]:.1f}" if k == "mean_words" else f"{100 * s[c][k]:.1f}")
        for c in cols) + " |" for k, t in keys)
    f, sp, tr = r["form"], r["speed"], r["training"]
    gain_h = 100 * (s["headline"]["rougeL"] - s["headline_lead"]["rougeL"]) if "headline" in s else 0
    gain_t = 100 * (s["teaser"]["rouge1"] - s["teaser_lead"]["rouge1"]) if "teaser" in s else 0
    cmd = (f"python -m training.bench_summarizer --data {a.data} --models {a.models} "
           + ("--skip-training" if a.skip_training else f"--max-minutes {a.max_minutes:g}")
           + f" --headline-articles {a.headline_articles}")
    return f"""{START}
Command: `{cmd}`{' (scores the summarizer that the same command trained earlier)' if a.skip_training else ''}
Machine: {r['machine']}. Run: {time.strftime('%Y-%m-%d')}.

Test split of the shared war corpus (duplicate-aware hash split; {json.dumps(r['articles'])}): headlines scored on
{r['test_headlines']} random test articles with a body, teasers on all {r['test_with_teaser']} test articles with a
reference teaser. ROUGE F1 x100 (rouge-score, stemmed); shares in %.

{head}
{rows}

Headline ROUGE-L {gain_h:+.1f} over the first 12 words; teaser ROUGE-1 {gain_t:+.1f} over Lead-1.

Form, on the {f['n']} headline articles: {f['dangling_end']} headlines end on a determiner, preposition, conjunction,
auxiliary or particle; {f.get('headline_cut_inside_phrase', 0)} are cut at the word limit inside a phrase (the extractive
fallback, each with a warning); {f['site_text']} outputs are site text;
the teaser repeats the headline's clause in {f['teaser_repeats_headline']} ({100 * f['teaser_repeats_headline'] / max(1, f['n']):.1f}%).
Paths: headline {json.dumps(f['headline_sources'])}, teaser {json.dumps(f['teaser_sources'])}; warnings {json.dumps(f['warnings'])}.

Training: {tr['total_seconds'] / 60:.1f} min in all ({tr['articles_read']} train-split articles read, parsed and fitted;
validation included).

Speed (headline + teaser, guard included, one {sp['words']}-word article, batch 1, {sp['articles']} articles): p50
{sp['latency_ms_p50']} ms, p90 {sp['latency_ms_p90']} ms; batched (batch {sp['batch_size']}) {sp['batched_articles_per_s']} articles/s.

{r['examples']} random test articles, the outlet's headline and teaser beside newsdesk's, are in
`{a.models}/summarizer_examples.md` (written by this command, kept out of the repository: the corpus is third-party
text).
{END}"""


def examples_table(examples: list[dict]) -> str:
    rows = "\n".join(f"| {_cell(e['outlet_headline'])} | {_cell(e['headline'])} | {_cell(e['outlet_teaser'])} | "
                     f"{_cell(e['teaser'])} |" for e in examples)
    return ("| outlet headline | newsdesk headline | outlet teaser | newsdesk teaser |\n| --- | --- | --- | --- |\n"
            + rows + "\n")


if __name__ == "__main__":
    main()
