"""Train the headline/teaser summarizer (`newsdesk train-summarizer`).

    newsdesk train-summarizer --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts

From body-to-headline and body-to-teaser pairs of the train split it fits, per output:
- the sentence selector (models/selection.py): logistic regression over candidate features, the label being the
  candidate that shares most words with the outlet's headline (or teaser), the ROUGE oracle;
- the deletion scorer (models/compression.py): logistic regression over the deletable subtrees of the oracle
  sentence, a subtree labelled deleted when most of its content words are missing from the outlet's text
  (Filippova & Altun 2013).
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm

from data import FieldMap, duplicate_groups, read_articles, split_articles
from models.compression import hash_features, unit_features, units
from models.extractive import strip_lead_in
from models.parse import nlp
from models.selection import Selector
from models.summarizer import TASKS, Summarizer, SummarizerSettings, _stem, tokenize
from .evaluate import evaluate_summaries

_FUNCTION = {"the", "a", "an", "of", "to", "in", "on", "and", "for", "at", "by", "with", "is", "are", "was", "were",
             "be", "been", "has", "have", "had", "that", "as", "from", "its", "it", "this", "will", "said", "says"}


@dataclass
class SummarizerArgs:
    data: list = field(default_factory=list)     # JSONL(.gz)/CSV with body and headline and/or teaser
    extra_data: list = field(default_factory=list)  # more training pairs only: their train split joins training;
                                                 # validation and test stay on `data`
    models: str = "artifacts"                    # writes MODELS/summarizer/
    base_model: str = "minilm"                   # minilm: compressive only; a T5/BART checkpoint adds a generator
    train_articles: int = 5000                   # train-split articles the selector and scorer learn from
    eval_articles: int = 300                     # validation articles scored at the end
    headline_max_words: int = 16
    teaser_max_words: int = 45
    max_input_tokens: int = 256
    max_minutes: float | None = 20.0             # the whole run: reading, parsing, fitting, validating, writing
    # the generator (only with a seq2seq --base-model)
    epochs: int = 1
    batch_size: int = 8
    lr: float = 3e-4
    warmup: float = 0.05
    max_steps: int | None = None
    valid_fraction: float = 0.05
    test_fraction: float = 0.15                  # same test bucket as every other split of this corpus
    min_body_words: int = 40
    seed: int = 0
    num_threads: int | None = None
    skip_bad: bool = False
    fields: list = field(default_factory=list)
    progress: bool = True


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


def train_summarizer(args: SummarizerArgs) -> dict:
    budget = Budget(args.max_minutes)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    settings = SummarizerSettings(headline_max_words=args.headline_max_words, teaser_max_words=args.teaser_max_words,
                                  max_input_tokens=args.max_input_tokens)
    summ = Summarizer.from_base(args.base_model, settings=settings)
    if summ.generator is not None:
        settings.headline_path = settings.teaser_path = "generator"
    parts = read_splits(args)
    if not parts["train"]:
        raise ValueError(f"no training articles in {', '.join(map(str, args.data))}: articles need a body of at least "
                         f"{args.min_body_words} words and a headline or teaser")
    train = random.Random(args.seed).sample(parts["train"], min(args.train_articles, len(parts["train"])))

    # 1. read each article once (sentences, MiniLM salience), the selectors' examples and the oracle sentences
    feats = {t: [] for t in TASKS}
    labels = {t: [] for t in TASKS}
    targets = []  # (task, oracle sentence without its dateline, target)
    read = 0
    for a in tqdm(train, desc="read articles", unit="article", disable=not args.progress):
        if budget.used() > 0.5:
            break
        r = summ.read(a.body)
        x = r.features
        for task, target in pairs_for(a, args.min_body_words):
            best = oracle(r.sentences, target, len(x))
            feats[task].append(x)
            labels[task] += [int(i == best) for i in range(len(x))]
            targets.append((task, strip_lead_in(r.sentences[best]), target))
        read += 1
    for task in TASKS:
        if feats[task]:
            summ.selectors[task] = Selector(fit_linear(np.vstack(feats[task]), np.array(labels[task])))

    # 2. parse the oracle sentences; which of their subtrees the outlet's editors left out
    rows = {t: [] for t in TASKS}
    ys = {t: [] for t in TASKS}
    docs = nlp().pipe((s for _, s, _ in targets), batch_size=64)
    for (task, _, target), doc in tqdm(zip(targets, docs), total=len(targets), desc="parse oracle sentences",
                                       unit="sentence", disable=not args.progress):
        if budget.used() > 0.8:
            break
        want = set(content(target))
        for tok in units(doc):
            y = unit_label(tok, want)
            if y is not None:
                rows[task].append(unit_features(tok, doc))
                ys[task].append(y)
    for task in TASKS:
        if rows[task]:
            dim = summ.scorers[task].dim
            summ.scorers[task].weights = fit_linear(hash_features(rows[task], dim), np.array(ys[task]), c=0.5)

    # 3. the generator, when there is one
    gen = train_generator(summ, parts["train"], args, budget) if summ.generator is not None else None

    # 4. validation beside the baselines, then the model directory
    valid = random.Random(args.seed).sample(parts["valid"], min(args.eval_articles, len(parts["valid"])))
    scores = evaluate_summaries(summ, valid, batch_size=16, progress=args.progress) if valid else {}
    results = {
        "args": {**asdict(args), "data": [str(d) for d in args.data], "extra_data": [str(d) for d in args.extra_data]},
        "data": [str(d) for d in args.data],
        "articles": {k: len(v) for k, v in parts.items()},
        "training_pairs": {t: len(feats[t]) for t in TASKS},
        "deletion_units": {t: len(ys[t]) for t in TASKS},
        "deleted_share": {t: float(np.mean(ys[t])) if ys[t] else 0.0 for t in TASKS},
        "training": {"articles_read": read, "total_seconds": round(budget.elapsed(), 1),
                     "machine": f"{platform.machine()}, {torch.get_num_threads()} threads", "generator": gen},
        "valid": scores,
        "paths": {"headline": summ.settings.headline_path, "teaser": summ.settings.teaser_path},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    from .model_card import summarizer_card
    summ.save_pretrained(Path(args.models) / "summarizer",
                         {"metrics.json": json.dumps(results, indent=2), "MODEL_CARD.md": summarizer_card(results, summ)})
    if args.progress:
        print(f"wrote {Path(args.models) / 'summarizer'} in {budget.elapsed() / 60:.1f} min")
    return results


def train_generator(summ: Summarizer, train: list, args: SummarizerArgs, budget: Budget) -> dict:
    """Fine-tune the seq2seq generator on (prefixed input, target) pairs: one explicit loop, AdamW, transformers'
    linear warm-up/decay schedule, stopped by `max_steps` or the budget."""
    from transformers import get_linear_schedule_with_warmup
    pairs = [(a.body, task, target) for a in train for task, target in pairs_for(a, args.min_body_words)]
    random.Random(args.seed).shuffle(pairs)
    steps = math.ceil(len(pairs) / args.batch_size) * args.epochs
    if args.max_steps:
        steps = min(steps, args.max_steps)
    model = summ.generator.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    sched = get_linear_schedule_with_warmup(opt, int(args.warmup * steps), steps)
    done, losses = 0, []
    with tqdm(total=steps, desc="train generator", disable=not args.progress) as bar:
        while done < steps and budget.used() < 0.9:
            batch = [pairs[(done * args.batch_size + j) % len(pairs)] for j in range(args.batch_size)]
            for task in TASKS:
                chunk = [(b, t) for b, task_, t in batch if task_ == task]
                if not chunk:
                    continue
                enc = summ.tokenize([" ".join(b.split()[:400]) for b, _ in chunk], task, [t for _, t in chunk])
                loss = model(**enc).loss
                loss.backward()
                losses.append(loss.item())
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            done += 1
            bar.update(1)
    summ.generator.eval()
    return {"steps": done, "final_loss": float(np.mean(losses[-10:])) if losses else None}
