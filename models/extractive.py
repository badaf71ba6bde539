"""Sentences, lead baselines and the extractive teaser selector (no training needed).

The selector scores each sentence by salience (cosine of its MiniLM sentence embedding to the article's
centroid) plus a lead bias, and takes the best one (and its successor when it is short). It is the summarizer's
fallback and a baseline beside the lead sentence (teaser) and the first 12 words (headline).
"""
from __future__ import annotations

import re

import numpy as np
import torch

_ABBREV = ("Mr", "Mrs", "Ms", "Dr", "Prof", "Gen", "Lt", "Col", "Maj", "Capt", "Sgt", "Rep", "Sen", "Gov", "St",
           "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "No", "Vol",
           "U.S", "U.K", "U.N", "E.U", "Inc", "Co", "Corp", "Ltd", "Jr", "Sr", "vs", "approx", "est", "i.e", "e.g")
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_PROTECT = re.compile(r"\b(" + "|".join(re.escape(a) for a in _ABBREV) + r")\.(?=\s)")
_INITIAL = re.compile(r"\b([A-Z])\.(?=\s[A-Z])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph breaks respected, common abbreviations (U.S., Feb., Mr.) kept whole."""
    out = []
    for para in re.split(r"\n\s*\n|\r\n\s*\r\n", text or ""):
        para = " ".join(para.split())
        if not para:
            continue
        guarded = _INITIAL.sub(r"\1<DOT>", _PROTECT.sub(r"\1<DOT>", para))
        for sent in _BOUNDARY.split(guarded):
            sent = sent.replace("<DOT>", ".").strip()
            if sent:
                out.append(sent)
    return out


def lead_words(body: str, n: int = 12) -> str:
    """The headline baseline: the article's first n words."""
    return " ".join((body or "").split()[:n])


def lead_sentence(body: str) -> str:
    """The teaser baseline: the article's first sentence (Lead-1)."""
    sents = split_sentences(body)
    return sents[0] if sents else ""


class SentenceEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, unit length), int8 on CPU."""

    def __init__(self, model_dir=None, quantize: bool = True):
        from transformers import AutoModel, AutoTokenizer

        from .base import int8, load_pretrained, resolve_base
        where = resolve_base(model_dir)
        self.tokenizer = load_pretrained(AutoTokenizer, where)
        model = load_pretrained(AutoModel, where, add_pooling_layer=False).eval()
        self.model = int8(model) if quantize else model

    @torch.inference_mode()
    def encode(self, sentences: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(sentences), self.model.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            enc = self.tokenizer([sentences[i] for i in idx], truncation=True, max_length=128, padding=True,
                                 return_tensors="pt")
            hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[idx] = torch.nn.functional.normalize(emb, dim=-1).numpy()
        return out


def salience(embeddings: np.ndarray, lead_weight: float = 0.15, positions=None) -> np.ndarray:
    """Cosine of each sentence to the article centroid, plus a bias that decays with position (the sentences'
    places in the article: 0, 1, 2, ... unless `positions` says otherwise)."""
    if len(embeddings) == 0:
        return np.zeros(0)
    centroid = embeddings.mean(0)
    centroid /= np.linalg.norm(centroid) + 1e-9
    positions = np.arange(len(embeddings)) if positions is None else np.asarray(positions)
    return embeddings @ centroid + lead_weight / (1.0 + positions)


def select_teaser(sentences: list[str], scores: np.ndarray, max_words: int = 45, min_words: int = 8) -> tuple[str, list[int]]:
    """The best-scoring sentence of a usable length (and the next one when both fit in `max_words`). Sentences
    scored -inf are not candidates."""
    if not sentences:
        return "", []
    lengths = [len(s.split()) for s in sentences]
    scored = [i for i in range(len(sentences)) if np.isfinite(scores[i])] or list(range(len(sentences)))
    usable = [i for i in scored if min_words <= lengths[i] <= max_words] or scored
    best = max(usable, key=lambda i: scores[i])
    chosen = [best]
    if lengths[best] < 20 and best + 1 < len(sentences) and lengths[best] + lengths[best + 1] <= max_words:
        chosen.append(best + 1)
    text = " ".join(sentences[i] for i in chosen)
    if len(text.split()) > max_words:  # one very long sentence: cut at a word boundary
        text = " ".join(cut_words(text.split(), max_words)).rstrip(",;:") + "…"
    return text, chosen


_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][\w.'’-]*(?:[ -][A-Z][\w.'’-]*){0,2}(?:,\s*(?!" + _MONTH + r"\s+\d)[A-Z][a-z]*\.?)?)"  # KYIV, Ukraine
    r"(?P<date>,?\s+" + _MONTH + r"\s+\d{1,2}[.,]?)?"                                # , April 17
    r"(?P<agency>\s*\([^()]{2,40}\)|\s*/[A-Za-z-]+/\.?)?"                              # (Xinhua) / /TASS/.
    r"(?P<dash>\s+(?:--|—|–|-))?\s+")


def strip_dateline(sentence: str) -> str:
    """The sentence without a news-wire dateline ("KYIV, April 17 (Reuters) - ", "Moscow — "): a capitalised start
    followed by an agency, or by a dash, before a capitalised rest of the sentence."""
    m = _DATELINE.match(sentence)
    rest = sentence[m.end():] if m else ""
    if len(rest) >= 20 and (rest[0].isupper() or rest[0] in "\"“'‘") and (m.group("agency") or m.group("dash")):
        return rest
    return sentence


# a word continuing the number before it: cutting between them would change the number ("500" of "500 million")
_NUMBER_TAIL = re.compile(r"^(?:million|billion|trillion|thousand|hundred|bn|mln|percent|per|%|euros?|dollars?|"
                          r"pounds?|hryvnias?|roubles?|rubles?|tons?|tonnes?|km|kilomet(?:er|re)s?|miles?)\b", re.I)


def cut_words(words: list[str], n: int) -> list[str]:
    """The first `n` of `words`, minus a final number whose scale or unit the cut leaves out ("500" of "500
    million euros")."""
    cut = words[:n]
    while 1 < len(cut) < len(words) and re.search(r"\d", cut[-1]) and _NUMBER_TAIL.match(words[len(cut)]):
        cut = cut[:-1]
    return cut


def extractive_headline(sentence: str, max_words: int = 14) -> str:
    """A headline cut from a source sentence: its main clause without a dateline, at most `max_words` words, never
    ending on a number whose scale or unit was cut off, no final stop."""
    sentence = strip_dateline(sentence)
    s = re.sub(r",?\s+(?:the [\w' ]+|[\w']+ [\w']+) (?:said|says|reported|announced)\b.*$", "", sentence)
    if len(s.split()) < 5:  # the attribution was the sentence's start ("Mayor X said ..."): keep it whole
        s = sentence
    s = re.sub(r"\s+(?:on|in) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b", "", s)
    words = s.split()
    if len(words) > max_words:
        cut = words[:max_words]
        for i in range(len(cut) - 1, 5, -1):  # prefer ending at a clause break
            if cut[i].endswith((",", ";", ":")):
                cut = cut[: i + 1]
                break
        words = cut_words(words, len(cut))
        while len(words) > 4 and words[-1].lower().strip(",;:") in _DANGLING:  # never end on "... in the"
            words = words[:-1]
    return " ".join(words).rstrip(".,;:")


_DANGLING = {"a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "from", "with", "and", "or", "but", "that",
             "as", "its", "their", "his", "her", "which", "who", "into", "than", "over", "after", "before", "about",
             "is", "are", "was", "were", "be", "has", "have", "had", "will", "would", "could", "should", "this"}


def cut_to_budget(sentences: list[str], token_counts: list[int], budget: int, scores=None, lead: int = 3) -> list[int]:
    """Indices of the sentences to keep (in article order) so their tokens fit `budget`: the first `lead`
    sentences, then the most salient of the rest. A sentence longer than the whole budget is kept first and
    truncated by the tokenizer."""
    if sum(token_counts) <= budget:
        return list(range(len(sentences)))
    keep, used = [], 0
    rest = list(range(lead, len(sentences)))
    if scores is not None:
        rest.sort(key=lambda i: -scores[i])
    for i in list(range(min(lead, len(sentences)))) + rest:
        if used + token_counts[i] <= budget or not keep:
            keep.append(i)
            used += token_counts[i]
    return sorted(keep)
