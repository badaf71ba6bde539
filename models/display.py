"""What is shown to people: headlines and teasers cleaned and capped, and a cheap check that text is English.

    clean_for_display("<b>Kyiv</b> talks\x00 resume ", 120)  # "Kyiv talks resume"
    looks_english("Les pourparlers reprennent la semaine prochaine à Kyiv ...")  # False
"""
from __future__ import annotations

import re
import unicodedata

HEADLINE_MAX_CHARS = 120  # a long news headline is ~90 characters
TEASER_MAX_CHARS = 320    # two sentences

_HIDDEN = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)  # markup whose text is code
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>|<!--.*?-->", re.DOTALL)
_SPACE = re.compile(r"\s+")


def clean_for_display(text: str | None, max_chars: int) -> str:
    """`text` as plain text for a person: HTML tags (and the code inside <script>/<style>), control characters
    and NUL removed, runs of spaces and line breaks made one space, and at most `max_chars` characters: cut at a
    space when there is one in the last third, else (Chinese, Japanese, one enormous "word") at `max_chars`,
    and marked with "…"."""
    text = (text or "")[:max_chars * 20]  # enough to fill max_chars after any markup; no work on the rest
    text = _TAG.sub(" ", _HIDDEN.sub(" ", text))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029" else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" or ch in "\u200d")  # zero-width, bidi
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars - 1]
    space = head.rfind(" ", (max_chars * 2) // 3)
    return (head[:space] if space > 0 else head).rstrip(" ,;:-") + "…"


# The most frequent English words: in running English text they are about 40% of the words.
_FUNCTION_WORDS = frozenset(
    "the of and to a in is was that for on it with as by at from he she his her they their be are were been has have "
    "had not but or this which an will would said its who after over more than also about into up out".split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def looks_english(text: str) -> bool:
    """False when `text` is clearly not English: fewer than 70% of its letters are a-z, or (given 20 words or more)
    fewer than 8% of its words are common English function words. Short or empty text counts as English."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 20:
        return True
    if sum(ch.isascii() for ch in letters) / len(letters) < 0.7:
        return False
    words = _WORD.findall(text.lower())
    return len(words) < 20 or sum(w in _FUNCTION_WORDS for w in words) / len(words) >= 0.08
