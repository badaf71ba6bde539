"""Headline style, deterministic and fact-keeping: the main verb in the present tense, "will" as "to", passive
auxiliaries dropped ("was arrested" -> "arrested"), articles dropped outside quotations.

    "Poland granted a visa"          -> "Poland grants visa"
    "The ministry has banned ..."    -> "Ministry bans ..."
    "Officials said ..."             -> "Officials say ..."     (the subject's number decides)
    "The bridge was destroyed"       -> "Bridge destroyed"
    "The IMF will provide ..."       -> "IMF to provide ..."

A verb is rewritten only when its subject is found and its number is known; otherwise it is left as written.
Nothing inside a quotation changes.
"""
from __future__ import annotations

import numpy as np

from .compression import SPEECH_VERBS as _SPEECH

_IRREGULAR_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}
_PLURAL_PRONOUNS = {"we", "they", "you", "i", "these", "those", "both", "many", "few", "several"}
_SINGULAR_PRONOUNS = {"he", "she", "it", "this", "that", "one", "each", "everyone", "nobody", "somebody", "who"}


def third_singular(lemma: str) -> str:
    """"open" -> "opens", "fly" -> "flies", "push" -> "pushes", "be" -> "is"."""
    if lemma in _IRREGULAR_3SG:
        return _IRREGULAR_3SG[lemma]
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        return lemma + "es"
    if len(lemma) > 2 and lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies"
    return lemma + "s"


def present(lemma: str, plural: bool) -> str:
    if lemma == "be":
        return "are" if plural else "is"
    return lemma if plural else third_singular(lemma)


def subject_number(verb) -> bool | None:
    """True: plural subject; False: singular; None: no subject found, or its number is unclear."""
    subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subj is None:
        return None
    low = subj.text.lower()
    if any(c.dep_ == "conj" for c in subj.children):
        return True  # "Russia and Belarus"
    if subj.tag_ in ("NNS", "NNPS") or low in _PLURAL_PRONOUNS:
        return True
    if subj.tag_ in ("NN", "NNP") or low in _SINGULAR_PRONOUNS:
        if subj.tag_ == "NNP" and low.endswith("s") and subj.morph.get("Number") == ["Plur"]:
            return True
        return False
    if subj.tag_ == "CD":
        return low not in ("one", "1")
    return None


def _case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def headline_verbs(doc, keep: np.ndarray, inside_quote: np.ndarray) -> tuple[dict, set]:
    """(token index -> replacement text, token indices to drop) that put the kept main verbs (the root, the clause a
    speech verb reports, and verbs coordinated with them) in headline tense."""
    replace, drop = {}, set()
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return replace, drop
    verbs = [root] + [c for c in root.children if c.dep_ == "ccomp" and root.lemma_ in _SPEECH]
    verbs += [c for v in list(verbs) for c in v.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")]
    for v in verbs:
        if not keep[v.i] or inside_quote[v.i]:
            continue
        own = any(c.dep_ in ("nsubj", "nsubjpass") for c in v.children)
        if v.dep_ == "conj" and own:
            continue  # a clause of its own after the main one stays as written
        _rewrite(v, subject_number(v if own else v.head), keep, replace, drop, main=v.dep_ != "conj")
        if v.dep_ == "ccomp":  # "Kremlin says that ..." -> "Kremlin says ..."
            drop.update(c.i for c in v.children if c.dep_ == "mark" and c.lower_ == "that" and c.i < v.i)
    return replace, drop


def _rewrite(v, plural: bool | None, keep, replace: dict, drop: set, main: bool = True) -> None:
    auxes = [c for c in v.children if c.dep_ in ("aux", "auxpass") and keep[c.i] and c.i < v.i]
    neg = any(c.dep_ == "neg" for c in v.children)
    words = [a.lower_ for a in auxes]
    if v.tag_ == "VBN" and any(a.dep_ == "auxpass" for a in auxes) and not neg and main:
        if "will" in words:  # "will be led by" -> "to be led by"
            will = auxes[words.index("will")]
            replace[will.i] = _case("to", will.text)
            return
        if set(words) <= {"was", "were", "is", "are", "has", "have", "been", "being", "had"} and "had" not in words:
            drop.update(a.i for a in auxes)  # "was arrested" -> "arrested"
        return
    if plural is None:
        return
    if words == ["will"] and v.tag_ == "VB" and not neg:  # "will provide" -> "to provide"
        replace[auxes[0].i] = _case("to", auxes[0].text)
        return
    if words in (["has"], ["have"]) and v.tag_ == "VBN" and not neg:  # "has banned" -> "bans"
        drop.add(auxes[0].i)
        replace[v.i] = present(v.lemma_.lower(), plural)
        return
    if words in (["did"],) and neg:  # "did not attend" -> "does not attend"
        replace[auxes[0].i] = _case("do" if plural else "does", auxes[0].text)
        return
    if not auxes and v.tag_ == "VBD" and v.lemma_.isalpha():  # "granted" -> "grants", "were" -> "are"
        replace[v.i] = _case(present(v.lemma_.lower(), plural), v.text)
