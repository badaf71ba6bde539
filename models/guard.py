"""Faithfulness guard: every number and every name in a generated headline or teaser must be in the article.

Numbers are compared by value, so "$200 million", "200 million dollars" and "$200m" support each other, while
"$250 million", "€200 million" or "200" (without "million") do not. Percentages must match percentages.
Names are capitalised words (or words the model's casing lexicon says are usually capitalised); one is supported
when the article has the same word or a form sharing its stem ("Ukrainian" / "Ukraine").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mln": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
           "b": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
          "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12}
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "₴": "UAH", "₽": "RUB", "¥": "JPY"}
_CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR", "eur": "EUR",
                   "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "hryvnia": "UAH", "hryvnias": "UAH", "uah": "UAH",
                   "rouble": "RUB", "roubles": "RUB", "ruble": "RUB", "rubles": "RUB",
                   "yen": "JPY", "francs": "CHF", "franc": "CHF"}
_NUM = re.compile(
    r"(?P<cur>[$€£₴₽¥]|\b(?:US|U\.S\.|USD|EUR|UAH)\s?\$?)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\b(?:" + "|".join(_WORDS) + r")\b)"
    r"(?:\s?-?(?P<scale>thousand|million|billion|trillion|mln|bn|mn|trn|tn|[kmb])\b)?"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b))?"
    r"(?:\s?(?P<curword>" + "|".join(_CURRENCY_WORDS) + r")\b)?",
    re.IGNORECASE)
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿА-Яа-яІіЇїЄєҐґ][\w'’-]*")
_STOP_CAPS = frozenset("""a an the and or but if of in on at to for from by with as after before over under into
about amid against during since until while than then this that these those it its he she they we you i his her
their our your my is are was were be been being has have had do does did will would can could may might must shall
should not no new says said say top more most what who why how when where which all any some up out off down there
here first last next one two three four five six seven eight nine ten""".split())


_NAME_ENTITIES = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}


@dataclass(frozen=True)
class Quantity:
    text: str
    value: float
    percent: bool
    currency: str | None
    scaled: bool  # had a scale word (million, bn, ...)


def quantities(text: str) -> list[Quantity]:
    """Every number mentioned in `text`, with its value, percent flag and currency."""
    out = []
    for m in _NUM.finditer(text):
        raw = m.group("num")
        lowered = raw.lower()
        if lowered in _WORDS:
            if lowered == "one" and not (m.group("scale") or m.group("pct") or m.group("cur")):
                continue  # "one of the", "no one": not a figure
            value = float(_WORDS[lowered])
        else:
            value = float(raw.replace(",", ""))
        scale = (m.group("scale") or "").lower()
        if scale in ("m", "b", "k") and not (m.group("cur") or m.group("curword")):
            scale = ""  # "5 m" without currency is more likely metres
        if scale:
            value *= _SCALES[scale]
        cur = m.group("cur")
        currency = None
        if cur:
            cur = cur.strip().upper().replace(".", "")
            currency = _CURRENCY_SIGNS.get(cur[-1:], None) or {"US": "USD", "USD": "USD", "EUR": "EUR", "UAH": "UAH",
                                                               "US$": "USD", "USD$": "USD"}.get(cur.replace(" ", ""))
        if m.group("curword"):
            currency = _CURRENCY_WORDS[m.group("curword").lower()]
        out.append(Quantity(m.group(0).strip(), value, bool(m.group("pct")), currency, bool(scale)))
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def number_supported(q: Quantity, article_quantities: list[Quantity]) -> bool:
    for a in article_quantities:
        if _close(q.value, a.value) and q.percent == a.percent:
            if q.currency and a.currency and q.currency != a.currency:
                continue
            return True
    return False


def _stem_match(word: str, vocab: set[str]) -> bool:
    w = word.lower().strip("'’-")
    if w in vocab:
        return True
    if len(w) < 4:
        return False
    for v in vocab:
        n = 0
        for x, y in zip(w, v):
            if x != y:
                break
            n += 1
        if n >= 4 and n >= min(len(w), len(v)) - 3:
            return True
    return False


@dataclass
class Check:
    ok: bool
    unsupported_numbers: list = field(default_factory=list)
    unsupported_names: list = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return ([f"number {n!r} not in the article" for n in self.unsupported_numbers]
                + [f"name {n!r} not in the article" for n in self.unsupported_names])


class Guard:
    """Checks generated text against one article. `name_words` (lower-case) are words usually written with a
    capital (from the training corpus): used to spot names in lower-cased model output."""

    def __init__(self, article: str, name_words: set[str] | frozenset = frozenset()):
        self.article = article
        self.quantities = quantities(article)
        words = _WORD.findall(article)
        words += [part for w in words if "-" in w for part in w.split("-") if part]  # "Non-Proliferation": "Non" too
        self.vocab = {w.lower().strip("'’-") for w in words}
        self.vocab |= {w.lower().rstrip("s").rstrip("'’") for w in words}
        self.name_words = name_words

    def names(self, text: str) -> list[str]:
        found = []
        for m in _WORD.finditer(text):
            w = m.group(0)
            low = w.lower()
            capital = w[0].isupper() and low not in _STOP_CAPS
            if capital or low in self.name_words:
                found.append(w)
        return found

    def check(self, text: str, doc=None) -> Check:
        """Numbers and names of `text` against the article; with `doc` (spaCy's parse of `text`), the words of
        its named entities too, capitalised or not."""
        bad_nums = [q.text for q in quantities(text) if not number_supported(q, self.quantities)]
        names = self.names(text)
        if doc is not None:
            names += [w.text for e in doc.ents if e.label_ in _NAME_ENTITIES for w in e if w.is_alpha and len(w) > 1
                      and w.text not in names and w.lower_ not in _STOP_CAPS]
        bad_names = [w for w in names if not _stem_match(w, self.vocab)]
        return Check(not bad_nums and not bad_names, bad_nums, bad_names)
