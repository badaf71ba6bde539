"""ROUGE F1 via rouge-score (Porter stemming), averaged over pairs."""
from __future__ import annotations

from rouge_score import rouge_scorer

_SCORER = None


def rouge_scores(predictions: list[str], references: list[str]) -> dict:
    """{'n', 'rouge1', 'rouge2', 'rougeL'}: mean F1 in 0-1 over (prediction, reference) pairs."""
    global _SCORER
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if _SCORER is None:
        _SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for pred, ref in zip(predictions, references):
        scores = _SCORER.score(ref, pred or "")  # rouge-score takes (target, prediction)
        for key in totals:
            totals[key] += scores[key].fmeasure
    n = len(predictions)
    return {"n": n, **{k: (v / n if n else 0.0) for k, v in totals.items()}}
