"""`newsdesk evaluate`: score the trained models on any file, beside their baselines.

Output JSON (stable names; outside checks read them). Each section appears when the data has what it needs:
    "topic", "topic_baseline": rows with a topic label: n, accuracy, macro_f1, ece,
        per_class {label: {precision, recall, f1, support}}, confusion_matrix (rows true, columns predicted), labels
    "headline", "teaser": rows with a body and that reference: n, rouge1, rouge2, rougeL (F1, 0-1, stemmed),
        mean_words, novel_word_share, unsupported_share (after the guard), fallback_share (outputs written by the
        extractive method: the guard's fallback, or the method chosen at training), sources (count per method), and extras
    "headline_lead" (first 12 words), "headline_extractive" (the fallback: the lead sentence's main clause),
    "teaser_lead" (first sentence), "teaser_extractive" (the selector): the same keys
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from data import LABELS, FieldMap, read_articles, split_articles
from models.base import ModelLoadError
from models.classifier import TopicClassifier
from models.extractive import lead_sentence, lead_words
from models.guard import Guard
from .metrics import classification_metrics, format_table, softmax
from .rouge import rouge_scores

_WORDS = re.compile(r"[a-z0-9]+")


def summary_metrics(outputs: list[str], references: list[str], bodies: list[str], sources: list[str] | None = None,
                    raw: list[str] | None = None) -> dict:
    """ROUGE against references plus length, novelty and faithfulness shares for one kind of output."""
    m = rouge_scores(outputs, references)
    words = [len(o.split()) for o in outputs]
    guards = [Guard(b) for b in bodies]
    novel, unsupported = [], []
    for out, body, guard in zip(outputs, bodies, guards):
        toks = _WORDS.findall(out.lower())
        vocab = set(_WORDS.findall(body.lower()))
        novel.append(sum(t not in vocab for t in toks) / len(toks) if toks else 0.0)
        unsupported.append(bool(guard.check(out).unsupported_numbers))
    m.update(mean_words=float(np.mean(words)) if words else 0.0,
             novel_word_share=float(np.mean(novel)) if novel else 0.0,
             unsupported_share=float(np.mean(unsupported)) if unsupported else 0.0,
             fallback_share=float(np.mean([s == "extractive" for s in sources])) if sources else 0.0)
    if sources:
        m["sources"] = dict(Counter("generator (later beam candidate)" if s.startswith("generator (") else s
                                    for s in sources))
    if raw is not None:  # the generator's best beam before the guard
        checks = [g.check(r or "") for r, g in zip(raw, guards)]
        m["unsupported_share_before_guard"] = float(np.mean([bool(c.unsupported_numbers) for c in checks]))
        m["unsupported_name_share_before_guard"] = float(np.mean([bool(c.unsupported_names) for c in checks]))
    return m


def evaluate_summaries(summarizer, articles, batch_size: int = 8, progress: bool = True,
                       tasks=("headline", "teaser")) -> dict:
    """Served outputs and the baselines scored on `articles`; `summarizer` is a Summarizer or a models folder."""
    from models.summarizer import Summarizer
    from tqdm.auto import tqdm

    with_body = [a for a in articles if a.body and a.body.strip() and (a.headline or a.teaser)]
    if not with_body:
        return {}
    summ = (summarizer if isinstance(summarizer, Summarizer)
            else Summarizer.from_pretrained(Path(summarizer) / "summarizer"))

    def summarize(desc):
        outs = []
        for s in tqdm(range(0, len(with_body), batch_size), desc=desc, disable=not progress):
            outs += summ.summarize([a.body for a in with_body[s:s + batch_size]], batch_size=batch_size)
        return outs

    outs = summarize("summarize")
    if summ.methods == ("extractive", "extractive"):  # the served outputs are the extractive baselines
        extractive = outs
    else:
        with summ.using_method("extractive"):  # the summarizer's own extractive method: its fallback
            extractive = summarize("extractive method")
    result = {}
    for task in tasks:
        idx = [i for i, a in enumerate(with_body) if getattr(a, task)]
        if not idx:
            continue
        refs = [getattr(with_body[i], task) for i in idx]
        bodies = [with_body[i].body for i in idx]
        result[task] = summary_metrics([getattr(outs[i], task) for i in idx], refs, bodies,
                                       [getattr(outs[i], f"{task}_source") for i in idx],
                                       [outs[i].raw.get(task) for i in idx])
        lead = [lead_words(b, 12) for b in bodies] if task == "headline" else [lead_sentence(b) for b in bodies]
        result[f"{task}_lead"] = summary_metrics(lead, refs, bodies)
        result[f"{task}_extractive"] = summary_metrics([getattr(extractive[i], task) for i in idx], refs, bodies)
    return result


def format_summary_table(result: dict) -> str:
    names = [k for k in ("headline", "headline_lead", "headline_extractive", "teaser", "teaser_lead", "teaser_extractive")
             if k in result]
    keys = ("n", "rouge1", "rouge2", "rougeL", "mean_words", "novel_word_share", "unsupported_share", "fallback_share")
    out = [f"{'':20}" + "".join(f"{n:>18}" for n in names)]
    for k in keys:
        out.append(f"{k:20}" + "".join(f"{result[n][k]:>18}" if k == "n" else f"{result[n][k]:>18.3f}" for n in names))
    return "\n".join(out)


def evaluate(models: str, data, out: str | None = None, split: str = "all", batch_size: int = 32,
             fields=(), skip_bad: bool = False, tasks=("topic", "summary"), limit: int | None = None,
             progress: bool = True) -> dict:
    """Score the models in `models` on `data`. With `split` train, valid or test, each model is scored on that
    part of the hash split it was trained with (the fractions its config records)."""
    bad = []
    articles = read_articles(data, FieldMap.parse(fields), skip_bad=skip_bad, bad_rows=bad)
    clf_dir, summ_dir = Path(models) / "classifier", Path(models) / "summarizer"
    clf = summ = None
    if "topic" in tasks and any(a.topic for a in articles):
        clf = TopicClassifier.from_pretrained(clf_dir)
    references = any(a.body and (a.headline or a.teaser) for a in articles)
    if "summary" in tasks and references and ((summ_dir / "config.json").exists() or clf is None):
        from models.summarizer import Summarizer
        summ = Summarizer.from_pretrained(summ_dir)  # a missing one is a ModelLoadError when nothing else is scored

    parts: dict = {}  # the split per model's fractions, computed once (duplicate grouping reads every row)

    def part(model) -> list:
        key = tuple(sorted(model.split.items()))
        if key not in parts:
            rows = articles if split == "all" else split_articles(articles, **model.split)[split]
            parts[key] = rows[:limit] if limit else rows
        return parts[key]

    result = {"data": [str(d) for d in ([data] if isinstance(data, (str, Path)) else data)], "split": split,
              "models": str(models), "rows": len(part(clf or summ)) if (clf or summ) else len(articles),
              "bad_rows": [str(b) for b in bad]}
    labelled = [a for a in part(clf) if a.topic] if clf else []
    summarizable = [a for a in part(summ) if a.body and (a.headline or a.teaser)] if summ else []
    if not labelled and not summarizable:
        raise ValueError(f"nothing to evaluate in {', '.join(result['data'])} (split {split}): no row has a topic "
                         "label, and none has a body with a headline or teaser")
    if labelled:
        y = np.array([clf.labels.index(a.topic) for a in labelled])
        texts = [clf.input_text(a) for a in labelled]  # what the model reads (the headline repeated, if trained so)
        if clf.baseline is None:
            raise ModelLoadError(f"{clf_dir} has no TF-IDF baseline (baseline/); retrain with newsdesk train-classifier")
        if not clf.baseline.labels == clf.labels == list(LABELS):
            raise ModelLoadError(f"{clf_dir}: labels {clf.labels} (TF-IDF model: {clf.baseline.labels}) are not "
                                 f"newsdesk's {list(LABELS)}; retrain with newsdesk train-classifier")
        tfidf = clf.baseline.decision_function(texts)  # once: the baseline's scores and the blend's TF-IDF part
        result["topic"] = classification_metrics(y, clf.probabilities(texts, batch_size, tfidf), clf.labels)
        result["topic_baseline"] = classification_metrics(y, softmax(tfidf), clf.labels)
        print(format_table({"model": result["topic"], "tfidf_baseline": result["topic_baseline"]}))
    if summarizable:
        result.update(evaluate_summaries(summ, summarizable, batch_size=min(batch_size, 16), progress=progress))
        print(format_summary_table(result))
    elif "summary" in tasks and references and not summ_dir.joinpath("config.json").exists() and labelled:
        result["skipped"] = ["headline", "teaser"]
        print(f"note: no summarizer in {models}; headlines and teasers not scored")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=2))
        print(f"wrote {out}")
    return result
