"""Which sentence a headline (or a teaser) is built on: a learned linear selector over the article's first
sentences.

Features per candidate: position, length, MiniLM salience (cosine to the article's centroid, from one encoder pass
over the article's opening), lexical salience and cues that mark a sentence a reader should not meet first (site
furniture, a photo caption or credit, a sentence leaning on the one before, a question). Training labels each
article's candidates with the one sharing most words with the outlet's headline (or teaser): the ROUGE oracle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from .extractive import is_furniture, stands_alone, strip_lead_in

CANDIDATES = 6  # the first sentences considered
_CAPTION = re.compile(r"(?:\b(?:REUTERS|AP Photo|AFP|Getty Images|File Photo|Pool|Photo:|Image:|Credit:)\b|/[A-Z][a-z]+ "
                      r"[A-Z][a-z]+|(?:January|February|March|April|May|June|July|August|September|October|November|"
                      r"December) \d{1,2}, \d{4}\.?$|\b(?:pictured|poses|attends|gestures|speaks during)\b)")
_SPEECH = re.compile(r"\b(?:said|says|told|announced|warned|reported)\b")
_TRAILING_SAID = re.compile(r",[^,]{0,80}\b(?:said|says|told)\b[^,]{0,40}\.?$")
FEATURES = ([f"position={i}" for i in range(CANDIDATES)]
            + ["log_words", "short", "long", "furniture", "leans_back", "quote_start", "question", "digit",
               "capital_share", "caption", "speech", "trailing_said", "dateline", "colon", "minilm_salience",
               "minilm_best", "lexical_salience", "bias"])


def candidate_features(sentences: list[str], embeddings: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """(candidates, FEATURES) for the first CANDIDATES sentences; `embeddings` are unit-length sentence embeddings
    (zero where the encoder did not reach), `lexical` the lexical salience of every sentence."""
    n = min(CANDIDATES, len(sentences))
    valid = np.linalg.norm(embeddings, axis=1) > 0
    centroid = embeddings[valid].mean(0) if valid.any() else np.zeros(embeddings.shape[1])
    centroid = centroid / (np.linalg.norm(centroid) + 1e-9)
    cos = embeddings[:n] @ centroid
    lex = (lexical - lexical.mean()) / (lexical.std() + 1e-9) if len(lexical) > 1 else np.zeros(len(lexical))
    rows = []
    for i in range(n):
        s = sentences[i]
        words = s.split()
        caps = sum(w[:1].isupper() for w in words[1:]) / max(1, len(words) - 1)
        row = [float(i == j) for j in range(CANDIDATES)] + [
            np.log1p(len(words)), float(len(words) < 8), float(len(words) > 45), float(is_furniture(s)),
            float(not stands_alone(s)), float(s[:1] in "\"“‘'"), float(s.rstrip().endswith("?")),
            float(bool(re.search(r"\d", s))), caps, float(bool(_CAPTION.search(s))), float(bool(_SPEECH.search(s))),
            float(bool(_TRAILING_SAID.search(s))), float(strip_lead_in(s) != s), float(":" in s), float(cos[i]),
            float(cos[i] >= cos.max() - 1e-9), float(lex[i]), 1.0]
        rows.append(row)
    return np.array(rows, dtype=np.float32).reshape(n, len(FEATURES))


@dataclass
class Selector:
    """A linear scorer over `FEATURES`: the best-scoring candidate is taken first."""
    weights: np.ndarray  # (len(FEATURES),)

    def rank(self, features: np.ndarray) -> list[int]:
        """Candidate indices, best first."""
        scores = features @ self.weights
        return sorted(range(len(scores)), key=lambda i: (-scores[i], i))

    @classmethod
    def lead_first(cls) -> "Selector":
        """The untrained selector: the first sentence that is not furniture, a caption or too short."""
        w = np.zeros(len(FEATURES), dtype=np.float32)
        for i in range(CANDIDATES):
            w[FEATURES.index(f"position={i}")] = -0.1 * i
        for name in ("furniture", "caption", "short", "leans_back"):
            w[FEATURES.index(name)] = -1.0
        return cls(w)


@torch.inference_mode()
def sentence_embeddings(encoder, sentences: list[str], max_tokens: int = 256) -> np.ndarray:
    """Unit-length MiniLM embeddings of `sentences` from one encoder pass over their concatenation (the mean of
    the token states of each sentence's span; zero for a sentence past `max_tokens`). `encoder` is a
    models.extractive.SentenceEncoder."""
    tok = encoder.tokenizer
    counts = [len(ids) for ids in tok(sentences, add_special_tokens=False)["input_ids"]]
    enc = tok(" ".join(sentences), truncation=True, max_length=max_tokens, return_tensors="pt")
    states = encoder.model(**enc).last_hidden_state[0]
    out, start, end = np.zeros((len(sentences), states.shape[-1]), dtype=np.float32), 1, states.shape[0] - 1
    for j, n in enumerate(counts):
        span = states[start:min(start + n, end)]
        if len(span):
            out[j] = torch.nn.functional.normalize(span.float().mean(0), dim=-1).numpy()
        start += n
    return out


def lexical_salience(sentences: list[str]) -> np.ndarray:
    """Cheap salience: overlap of a sentence's content words with the whole article."""
    bags = [set(w for w in re.findall(r"[a-z0-9]+", s.lower()) if len(w) > 3) for s in sentences]
    counts: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            counts[w] = counts.get(w, 0) + 1
    return np.array([sum(counts[w] - 1 for w in bag) / (len(bag) ** 0.5 + 1) for bag in bags], dtype=float)
