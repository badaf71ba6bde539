"""Train the headline/teaser summarizer (`newsdesk train-summarizer`).

    newsdesk train-summarizer --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts

From body-to-headline and body-to-teaser pairs of the train split it fits, per output:
- the sentence selector (models/selection.py): logistic regression over candidate features, the label being the
  candidate that shares most words with the outlet's headline (or teaser), the ROUGE oracle;
- the deletion scorer (models/compression.py): logistic regression over the deletable subtrees of the oracle
  sentence, a subtree labelled deleted when most of its content words are missing from the outlet's text
  (Filippova & Altun 2013);
- the headline reranker (models/compression.py): ridge regression of every headline candidate's ROUGE-L against
  the outlet's headline, over the candidates the best-ranked sentences give.
With `--base-model` a T5/BART checkpoint, it also fine-tunes that generator (one plain loop, transformers'
linear schedule). Then it scores validation articles beside the baselines and writes MODELS/summarizer/
atomically. `--max-minutes` bounds the whole run.
"""
from __future__ import annotations

import json
import math
import platform
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm
from transformers import set_seed  # Python, NumPy and torch in one call

from data import FieldMap, duplicate_groups, read_articles, split_articles
from models.compression import hash_features, unit_features, units
from models.extractive import strip_lead_in
from models.parse import nlp
from models.selection import Selector
from models.compressive import _stem, tokenize
from models.summarizer import TASKS, Summarizer, SummarizerSettings
from .args import SummarizerArgs
from .evaluate import evaluate_summaries
from .loop import train_loop
from .model_card import summarizer_card

_FUNCTION = {"the", "a", "an", "of", "to", "in", "on", "and", "for", "at", "by", "with", "is", "are", "was", "were",
             "be", "been", "has", "have", "had", "that", "as", "from", "its", "it", "this", "will", "said", "says"}


def pairs_for(article, min_body_words: int) -> list[tuple[str, str]]:
    """(task, target) pairs an article offers: its headline, and its teaser where the outlet had one."""
    if not article.body or len(article.body.split()) < min_body_words:
        return []
    out = []
    if article.headline and 3 <= len(article.headline.split()) <= 20:
        out.append(("headline", " ".join(article.headline.split())))
    if article.teaser and 6 <= len(article.teaser.split()) <= 60 and article.teaser != article.headline:
        out.append(("teaser", " ".join(article.teaser.split())))
    return out


def read_splits(args: SummarizerArgs) -> dict:
    """The splits of the articles that offer pairs (train joined by the extra files' own train split)."""
    bad = []
    fields = FieldMap.parse(args.fields)
    articles = read_articles(args.data, fields, skip_bad=args.skip_bad, bad_rows=bad)
    extra = read_articles(args.extra_data, fields, skip_bad=args.skip_bad, bad_rows=bad) if args.extra_data else []
    if bad:
        print(f"skipped {len(bad)} bad rows, first: {bad[0]}")
    articles = [a for a in articles if pairs_for(a, args.min_body_words)]
    parts = split_articles(articles, valid=args.valid_fraction, test=args.test_fraction)
    extra = [a for a in extra if pairs_for(a, args.min_body_words)]
    if extra:  # the extra files' own train split, less rewrites of a story held out from `data`
        held_out = parts["valid"] + parts["test"]
        keys = duplicate_groups(held_out + extra)
        held_keys = set(keys[:len(held_out)])
        extra = [a for a, key in zip(extra, keys[len(held_out):]) if key not in held_keys]
        parts["train"] += split_articles(extra, valid=args.valid_fraction, test=args.test_fraction)["train"]
    return parts


def content(text: str) -> list[str]:
    """Stemmed content words (rouge-score's tokenizer and stemmer, function words out)."""
    return [_stem(w) for w in tokenize(text, None) if w not in _FUNCTION]


def oracle(sentences: list[str], target: str, n: int) -> int:
    """The candidate (of the first n sentences) covering most of the target's content words; ties to the first."""
    want = set(content(target))
    if not want:
        return 0
    scores = [len(want & set(content(strip_lead_in(s)))) / len(want) for s in sentences[:n]]
    return int(np.argmax(scores))


def unit_label(tok, target_words: set[str]) -> int | None:
    """1 when most of the unit's content words are missing from the target (the editor deleted it), else 0;
    None for a unit without content words."""
    words = content(" ".join(t.text for t in tok.subtree))
    if not words:
        return None
    return int(sum(w in target_words for w in words) / len(words) < 0.5)


class Budget:
    def __init__(self, minutes: float | None):
        self.start, self.limit = time.time(), (minutes * 60 if minutes else math.inf)

    def used(self) -> float:
        return (time.time() - self.start) / self.limit

    def elapsed(self) -> float:
        return time.time() - self.start


def fit_linear(x, y, c: float = 1.0, balanced: bool = False) -> np.ndarray:
    """Logistic-regression weights (intercept folded into a bias feature the inputs carry)."""
    if len(set(y)) < 2:
        return np.zeros(x.shape[1], dtype=np.float32)
    model = LogisticRegression(C=c, max_iter=500, fit_intercept=False,
                               class_weight="balanced" if balanced else None)
    model.fit(x, y)
    return model.coef_[0].astype(np.float32)


def fit_selectors(summ: Summarizer, train: list, args: SummarizerArgs, budget: Budget) -> tuple:
    """Read each training article once and fit each output's selector on its ROUGE-oracle sentence; returns the
    examples per output, the oracle sentences (task, sentence without dateline, target, word counts), the
    (reading, outlet headline) pairs the reranker learns from, and the articles read."""
    feats = {t: [] for t in TASKS}
    labels = {t: [] for t in TASKS}
    targets, headlines, read = [], [], 0
    for a in tqdm(train, desc="read articles", unit="article", disable=not args.progress):
        if budget.used() > 0.5:
            break
        r = summ.read(a.body)
        x = r.features
        headline_at = None
        for task, target in pairs_for(a, args.min_body_words):  # the headline first, then the teaser
            best = oracle(r.sentences, target, len(x))
            targets.append((task, strip_lead_in(r.sentences[best]), target, r.counts))
            if task == "headline":
                headlines.append((r, target))
                headline_at = best
            rows = list(range(len(x)))
            if task == "teaser" and summ.settings.teaser_adds and headline_at is not None:
                # the served teaser never is the headline's sentence: learn to rank the others
                rows = [i for i in rows if i != headline_at]
                best = rows[oracle([r.sentences[i] for i in rows], target, len(rows))] if len(rows) > 1 else None
            if best is None:
                continue
            feats[task].append(x[rows])
            labels[task] += [int(i == best) for i in rows]
        read += 1
    for task in TASKS:
        if feats[task]:
            summ.selectors[task] = Selector(fit_linear(np.vstack(feats[task]), np.array(labels[task])))
    return feats, targets, headlines, read


def fit_scorers(summ: Summarizer, targets: list, budget: Budget, progress: bool = True) -> dict:
    """Fit each output's deletion scorer on the subtrees of its oracle sentences, labelled by whether the outlet's
    text left them out; returns the labels per output."""
    rows = {t: [] for t in TASKS}
    ys = {t: [] for t in TASKS}
    docs = nlp().pipe((s for _, s, _, _ in targets), batch_size=64)
    for (task, _, target, counts), doc in tqdm(zip(targets, docs), total=len(targets), desc="parse oracle sentences",
                                               unit="sentence", disable=not progress):
        if budget.used() > 0.8:
            break
        want = set(content(target))
        for tok in units(doc):
            y = unit_label(tok, want)
            if y is not None:
                rows[task].append(unit_features(tok, doc, counts))
                ys[task].append(y)
    for task in TASKS:
        if rows[task]:
            dim = summ.scorers[task].dim
            summ.scorers[task].weights = fit_linear(hash_features(rows[task], dim), np.array(ys[task]), c=0.5)
    return ys


def train_summarizer(args: SummarizerArgs) -> dict:
    budget = Budget(args.max_minutes)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    set_seed(args.seed)
    settings = SummarizerSettings(headline_max_words=args.headline_max_words, teaser_max_words=args.teaser_max_words,
                                  max_input_tokens=args.max_input_tokens, salience_encoder=args.salience_encoder,
                                  num_beams=args.num_beams)
    summ = Summarizer.from_base(args.base_model, settings=settings)
    if summ.generator is not None:
        settings.headline_method = settings.teaser_method = "generator"
    parts = read_splits(args)
    if not parts["train"]:
        raise ValueError(f"no training articles in {', '.join(map(str, args.data))}: articles need a body of at least "
                         f"{args.min_body_words} words and a headline or teaser")
    train = random.Random(args.seed).sample(parts["train"], min(args.train_articles, len(parts["train"])))

    # 1. read each article once: the selectors, and the oracle sentences the scorers and the reranker learn from
    feats, targets, headlines, read = fit_selectors(summ, train, args, budget)
    # 2. parse the oracle sentences; which of their subtrees the outlet's editors left out
    ys = fit_scorers(summ, targets, budget, args.progress)

    # 3. the headline reranker, over the candidates of each article's best-ranked sentences
    reranked = fit_reranker(summ, headlines, budget, args.progress, args.rerank_sentences)

    # 4. the generator, when there is one
    gen = train_generator(summ, parts["train"], args, budget) if summ.generator is not None else None

    # 5. validation beside the baselines, then the model directory
    valid = random.Random(args.seed).sample(parts["valid"], min(args.eval_articles, len(parts["valid"])))
    scores = evaluate_summaries(summ, valid, batch_size=16, progress=args.progress) if valid else {}
    results = {
        "args": {**asdict(args), "data": [str(d) for d in args.data], "extra_data": [str(d) for d in args.extra_data]},
        "data": [str(d) for d in args.data],
        "articles": {k: len(v) for k, v in parts.items()},
        "training_pairs": {t: len(feats[t]) for t in TASKS},
        "deletion_units": {t: len(ys[t]) for t in TASKS},
        "deleted_share": {t: float(np.mean(ys[t])) if ys[t] else 0.0 for t in TASKS},
        "reranker": reranked,
        "training": {"articles_read": read, "total_seconds": round(budget.elapsed(), 1),
                     "machine": f"{platform.machine()}, {torch.get_num_threads()} threads", "generator": gen},
        "valid": scores,
        "methods": {"headline": summ.settings.headline_method, "teaser": summ.settings.teaser_method},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    summ.save_pretrained(Path(args.models) / "summarizer",
                         {"metrics.json": json.dumps(results, indent=2), "MODEL_CARD.md": summarizer_card(results, summ)},
                         split={"valid": args.valid_fraction, "test": args.test_fraction})
    if args.progress:
        print(f"wrote {Path(args.models) / 'summarizer'} in {budget.elapsed() / 60:.1f} min")
    return results


def fit_reranker(summ: Summarizer, headlines: list, budget: "Budget", progress: bool = True, sentences: int = 3) -> dict:
    """Fit the headline reranker: ridge regression of each candidate's ROUGE-L F1 against the outlet's headline
    (centred per article: only the order within an article matters) on rerank_features, standardised for the fit,
    over the candidates of each article's `sentences` best-ranked sentences. Learning from three and serving on
    the first scored validation ROUGE-L 26.75, learning from one 26.37 (docs/BENCHMARKS.md)."""
    from rouge_score import rouge_scorer
    from sklearn.linear_model import Ridge
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    k, served = sentences, summ.settings.parse_candidates
    summ.settings.parse_candidates = k  # headline_candidates reads k sentences while learning; restored below
    want = [(g, i) for g, (r, _) in enumerate(headlines) for i in summ.ranked("headline", r)[:k]]
    parsed = nlp().pipe((strip_lead_in(headlines[g][0].sentences[i]) for g, i in want), batch_size=64)
    docs: dict[int, dict] = {}
    rows, ys, groups = [], [], []
    for (g, i), doc in tqdm(zip(want, parsed), total=len(want), desc="rerank candidates", unit="sentence",
                            disable=not progress):
        if budget.used() > 0.85:
            break
        docs.setdefault(g, {})[i] = doc
        if len(docs[g]) < min(k, len(summ.ranked("headline", headlines[g][0]))):
            continue  # the article's last parsed sentence completes it
        r, target = headlines[g]
        found, x = summ.headline_candidates(r, docs.pop(g))
        rouge = [scorer.score(target, c.text)["rougeL"].fmeasure for _, _, c in found]
        if len(found) > 1 and max(rouge) > 0:
            rows.append(x)
            ys.append(np.array(rouge) - np.mean(rouge))
            groups.append(len(found))
    summ.settings.parse_candidates = served
    if len(rows) < 20:
        return {"articles": len(rows), "fitted": False}
    x, y = np.vstack(rows), np.concatenate(ys)
    mu, sd = x.mean(0), x.std(0)
    sd[sd < 1e-6] = 1.0
    coef = Ridge(alpha=1.0).fit((x - mu) / sd, y).coef_
    summ.reranker.weights = (coef / sd).astype(np.float32)  # the same order on raw features (the offset is shared)
    return {"articles": len(rows), "candidates": int(len(y)), "fitted": True}


def train_generator(summ: Summarizer, train: list, args: SummarizerArgs, budget: Budget) -> dict:
    """Fine-tune the seq2seq generator on (prefixed input, target) pairs in the one training loop
    (training/loop.py), stopped by `max_steps` or the run's budget."""
    pairs = [(a.body, task, target) for a in train for task, target in pairs_for(a, args.min_body_words)]
    random.Random(args.seed).shuffle(pairs)
    steps = math.ceil(len(pairs) / args.batch_size) * args.epochs
    if args.max_steps:
        steps = min(steps, args.max_steps)
    model = summ.generator

    def step_loss(step: int) -> torch.Tensor:  # one loss over the batch's headline and teaser pairs
        batch = [pairs[(step * args.batch_size + j) % len(pairs)] for j in range(args.batch_size)]
        losses = []
        for task in TASKS:
            chunk = [(b, t) for b, task_, t in batch if task_ == task]
            if chunk:
                enc = summ.tokenize([" ".join(b.split()[:400]) for b, _ in chunk], task, [t for _, t in chunk])
                losses.append(model(**enc).loss)
        return torch.stack(losses).sum()

    deadline = budget.start + 0.9 * budget.limit
    run = train_loop(model, torch.optim.AdamW(model.parameters(), lr=args.lr), step_loss, steps, warmup=args.warmup,
                     deadline=deadline if math.isfinite(deadline) else None, progress=args.progress,
                     desc="train generator")
    return {"steps": run.steps, "final_loss": run.last_loss}
