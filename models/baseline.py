"""The TF-IDF + logistic regression baseline, stored without pickle (JSON vocabulary + safetensors arrays)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from scipy.sparse import hstack
from scipy.special import softmax

_VECTORIZERS = {
    "word": dict(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=60000,
                 lowercase=True, strip_accents="unicode"),
    "char": dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=120000,
                 lowercase=True, strip_accents="unicode"),
}


class TfidfBaseline:
    """Word 1-2-grams and character 2-5-grams, TF-IDF weighted, into a class-balanced logistic regression."""

    def __init__(self, labels, C: float = 10.0, max_chars: int = 3000):
        self.labels, self.C, self.max_chars = list(labels), C, max_chars
        self.vectorizers: dict[str, TfidfVectorizer] = {}
        self.coef = self.intercept = None

    def _clip(self, texts):
        return [t[: self.max_chars] for t in texts]

    def _features(self, texts):
        return hstack([self.vectorizers[k].transform(self._clip(texts)) for k in _VECTORIZERS]).tocsr()

    def fit(self, texts, labels, seed: int = 0) -> "TfidfBaseline":
        texts = self._clip(texts)
        self.vectorizers = {k: TfidfVectorizer(**params) for k, params in _VECTORIZERS.items()}
        X = hstack([self.vectorizers[k].fit_transform(texts) for k in _VECTORIZERS]).tocsr()  # one pass over texts
        y = np.array([self.labels.index(label) for label in labels])
        clf = LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced", random_state=seed)
        clf.fit(X, y)
        coef = np.zeros((len(self.labels), X.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(self.labels), dtype=np.float32)
        if len(clf.classes_) == 2:  # binary: sklearn keeps one row; expand to softmax form
            coef[clf.classes_[1]], intercept[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
        else:
            coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
        missing = sorted(set(range(len(self.labels))) - set(clf.classes_.tolist()))
        intercept[missing] = -1e4  # a label never seen in training is never predicted
        self.coef, self.intercept = coef, intercept
        return self

    def decision_function(self, texts) -> np.ndarray:
        return np.asarray(self._features(texts) @ self.coef.T) + self.intercept

    def predict_proba(self, texts) -> np.ndarray:
        return softmax(self.decision_function(texts), axis=1)

    def predict(self, texts) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, directory) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"labels": self.labels, "C": self.C, "max_chars": self.max_chars, "vectorizers": {}}
        arrays = {"coef": self.coef, "intercept": self.intercept}
        for name, vec in self.vectorizers.items():
            vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            meta["vectorizers"][name] = {"params": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in _VECTORIZERS[name].items()}, "vocabulary": vocab}
            arrays[f"idf_{name}"] = vec.idf_.astype(np.float64)
        (directory / "baseline.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        save_file(arrays, str(directory / "baseline.safetensors"))

    @classmethod
    def load(cls, directory) -> "TfidfBaseline":
        directory = Path(directory)
        meta = json.loads((directory / "baseline.json").read_text(encoding="utf-8"))
        arrays = load_file(str(directory / "baseline.safetensors"))
        self = cls(meta["labels"], C=meta["C"], max_chars=meta["max_chars"])
        for name, spec in meta["vectorizers"].items():
            params = {k: tuple(v) if isinstance(v, list) else v for k, v in spec["params"].items()}
            params.pop("max_features", None)
            params.pop("min_df", None)
            vec = TfidfVectorizer(**params, vocabulary={t: i for i, t in enumerate(spec["vocabulary"])})
            vec.idf_ = arrays[f"idf_{name}"]
            self.vectorizers[name] = vec
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]
        return self
