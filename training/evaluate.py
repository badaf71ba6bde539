"""`newsdesk evaluate`: score the trained models on any labelled file, beside their baselines.

Output JSON (stable names; outside checks read them):
    {"topic": {n, accuracy, macro_f1, ece, per_class: {label: {precision, recall, f1, support}},
               confusion_matrix, labels},
     "topic_baseline": {same keys, TF-IDF + logistic regression stored with the classifier},
     "data": ..., "split": ..., "models": ...}
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data import LABELS, FieldMap, read_articles, split_articles
from models.base import ModelLoadError
from models.baseline import TfidfBaseline
from models.classifier import TopicClassifier
from .metrics import classification_metrics, format_table


def evaluate(models: str, data, out: str | None = None, split: str = "all", batch_size: int = 32,
             fields=(), skip_bad: bool = False, valid_fraction: float = 0.15, test_fraction: float = 0.15) -> dict:
    bad = []
    articles = read_articles(data, FieldMap.parse(fields), skip_bad=skip_bad, bad_rows=bad)
    if split != "all":
        articles = split_articles(articles, valid=valid_fraction, test=test_fraction)[split]
    result = {"data": [str(d) for d in ([data] if isinstance(data, (str, Path)) else data)], "split": split,
              "models": str(models), "rows": len(articles), "bad_rows": [str(b) for b in bad]}
    labelled = [a for a in articles if a.topic]
    if not labelled:
        raise ValueError(f"nothing to evaluate: no article in {', '.join(result['data'])} (split {split}) "
                         "has a topic label")
    clf_dir = Path(models) / "classifier"
    clf = TopicClassifier.from_pretrained(clf_dir)
    y = np.array([clf.labels.index(a.topic) for a in labelled])
    texts = [a.text for a in labelled]
    result["topic"] = classification_metrics(y, clf.probabilities(texts, batch_size=batch_size), clf.labels)
    if not (clf_dir / "baseline" / "baseline.json").exists():
        raise ModelLoadError(f"{clf_dir} has no TF-IDF baseline (baseline/); retrain with newsdesk train-classifier")
    baseline = TfidfBaseline.load(clf_dir / "baseline")
    assert baseline.labels == clf.labels == list(LABELS)
    result["topic_baseline"] = classification_metrics(y, baseline.predict_proba(texts), baseline.labels)
    print(format_table({"model": result["topic"], "tfidf_baseline": result["topic_baseline"]}))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=2))
        print(f"wrote {out}")
    return result
