"""Classification metrics (scikit-learn), expected calibration error, temperature scaling and the blend fit."""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits / temperature (scipy's)."""
    return scipy_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins."""
    probs, y = np.asarray(probs), np.asarray(y)
    if len(y) == 0:
        return float("nan")
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs((pred[in_bin] == y[in_bin]).mean() - conf[in_bin].mean())
    return float(ece)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T > 0 minimising the negative log-likelihood of softmax(logits / T)."""
    logits, y = np.asarray(logits, dtype=np.float64), np.asarray(y)
    if len(y) == 0:
        return 1.0

    def nll(log_t):
        p = softmax(logits, float(np.exp(log_t)))
        return -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean()

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def fit_blend(model_logp: np.ndarray, tfidf_logp: np.ndarray, y: np.ndarray, grid: int = 11) -> tuple[float, float]:
    """The weight w (on a grid over [0, 1]) and temperature T for softmax((w * model_logp + (1 - w) * tfidf_logp) / T)
    with the lowest negative log-likelihood on (validation) labels `y`; ties go to the larger model weight."""
    best = None
    for w in np.linspace(1.0, 0.0, grid):
        z = w * model_logp + (1 - w) * tfidf_logp
        t = fit_temperature(z, y)
        nll = -np.log(np.clip(softmax(z, t)[np.arange(len(y)), y], 1e-12, None)).mean()
        if best is None or nll < best[0] - 1e-9:
            best = (nll, round(float(w), 2), t)
    return best[1], best[2]


def classification_metrics(y_true, probs, labels) -> dict:
    """n, accuracy, macro_f1, ece, per_class {label: precision/recall/f1/support}, confusion_matrix
    (rows: true label, columns: predicted, in `labels` order)."""
    y_true, probs = np.asarray(y_true, dtype=int), np.asarray(probs)
    y_pred = probs.argmax(axis=1)
    idx = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0)),
        "ece": expected_calibration_error(probs, y_true),
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, lab in enumerate(labels)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
        "labels": list(labels),
    }


def format_table(results: dict) -> str:
    """A plain-text table of {name: metrics} side by side."""
    names = list(results)
    labels = results[names[0]]["labels"]
    rows = [("n", "n"), ("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("ece", "ECE")]
    out = [f"{'':24}" + "".join(f"{n:>16}" for n in names)]
    for key, title in rows:
        out.append(f"{title:24}" + "".join(
            f"{results[n][key]:>16}" if key == "n" else f"{results[n][key]:>16.3f}" for n in names))
    for lab in labels:
        out.append(f"{'F1 ' + lab:24}" + "".join(f"{results[n]['per_class'][lab]['f1']:>16.3f}" for n in names))
    return "\n".join(out)


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> dict:
    """Top-label reliability table, equal-width confidence bins over (0, 1]: per bin the mean confidence, the
    accuracy and the count (None where a bin is empty); what a reliability diagram plots."""
    probs, y = np.asarray(probs), np.asarray(y)
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = {"edges": edges.round(4).tolist(), "confidence": [], "accuracy": [], "count": []}
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        out["count"].append(int(in_bin.sum()))
        out["confidence"].append(float(conf[in_bin].mean()) if in_bin.any() else None)
        out["accuracy"].append(float((pred[in_bin] == y[in_bin]).mean()) if in_bin.any() else None)
    return out
