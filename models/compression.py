"""Sentence compression by deleting whole subtrees of the dependency parse, never by cutting at a word count.

A *unit* is a token whose subtree may go: appositives, relative and participial clauses, adverbial clauses,
prepositional phrases, temporal and place modifiers, parentheticals, a second coordinated clause. The root verb,
its subject and object, negation, hedges ("reportedly", "alleged"), the complements a verb needs and anything
inside a quotation always stay (a quotation is never shortened). `DeletionScorer` gives each unit a probability of
deletion, learned from body-to-headline pairs the way Filippova & Altun (2013) built their data: a unit whose
content words are missing from the outlet's headline was deleted by the editor. `compressions` lists the k best
deletion sets (most probable first) that fit a word limit, rendered as text.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import numpy as np

UNIT_DEPS = {"appos", "relcl", "acl", "advcl", "prep", "npadvmod", "tmod", "advmod", "parataxis", "conj", "meta",
             "intj", "agent"}
KEEP_ADVERBS = {"not", "never", "no", "n't", "reportedly", "allegedly", "apparently", "likely", "possibly", "probably",
                "only", "almost", "nearly", "about", "more", "less", "least", "most", "so", "too", "very", "just",
                "hardly", "barely", "already", "yet", "ever", "perhaps", "maybe", "again", "how", "why", "when",
                "where", "seemingly", "purportedly", "supposedly", "ostensibly", "presumably", "potentially",
                "formerly", "once",  # "the chain that was formerly McDonald's" is not "that was McDonald's"
                "briefly", "temporarily", "partly", "partially", "largely", "mostly",  # how far the claim goes
                "positively", "negatively", "favorably", "favourably", "unfavorably", "unfavourably", "either", "neither",
                # a direction completes its verb: "push the army back" is not "push the army"
                "back", "away", "out", "off", "down", "up", "forward", "home", "apart", "together", "ahead", "aside"}
_HEDGES = {"almost", "nearly", "reportedly", "allegedly", "apparently", "likely", "possibly", "probably", "perhaps",
           "maybe", "seemingly", "purportedly", "supposedly", "presumably", "potentially"}  # "almost certainly" stays
_KEEP_PREPS = {"according"}  # "according to X" names who says it: dropping it turns a claim into a fact
_QUOTES = set("\"“”«»")
_OPENING_QUOTES = {"“": "”", '"': '"', "«": "»"}
_CLOSING_QUOTES = {"“": "”\"", '"': '"”', "«": "»"}
_OPEN_CLOSE = {"(": ")", "[": "]"}
SPEECH_VERBS = {"say", "tell", "announce", "claim", "accuse", "warn", "report", "state", "add", "note", "insist",
                "deny", "confirm", "write", "tweet", "declare", "allege", "stress", "argue", "suggest", "urge",
                "vow", "pledge", "promise", "threaten", "predict", "demand"}
_CARRY_NOTHING = re.compile(r"\b(?:correspondent|reporter|journalist|anchor|host|editor|columnist|producer)s?\b", re.I)
_ENTS = ("DATE", "TIME", "GPE", "LOC", "PERSON", "ORG", "NORP", "CARDINAL", "MONEY", "PERCENT", "QUANTITY")


def quoted(doc) -> np.ndarray:
    """Per token: inside a quotation (the marks included). Double quotes and guillemets open and close; a single
    quote opens only after a space ("the ‘special operation’") and closes only an open one, so the possessive
    apostrophe of "Brussels’ plan" is no quotation."""
    return _quote_scan(doc)[0]


def open_quote_at(doc) -> np.ndarray:
    """Per boundary b (before token b; len(doc) + 1 of them): a quotation is open there, so a cut at b would
    split it."""
    return _quote_scan(doc)[1]


def _quote_scan(doc) -> tuple[np.ndarray, np.ndarray]:
    inside, double, single = np.zeros(len(doc), dtype=bool), False, False
    open_at = np.zeros(len(doc) + 1, dtype=bool)
    for t in doc:
        x, spaced = t.text, t.i == 0 or bool(doc[t.i - 1].whitespace_)
        if x in ('"', "“", "”", "«", "»"):
            opening = x in "“«" or (x == '"' and not double)
            inside[t.i] = True
            double = opening if x == '"' or x in "“«”»" else double
        elif x in ("‘", "'", "’") and (single or (spaced and x != "’")):
            inside[t.i] = True
            single = not single
        else:
            inside[t.i] = double or single
        open_at[t.i + 1] = double or single
    return inside, open_at


def _span(tok) -> tuple[int, int]:
    """The token range of `tok`'s subtree, with the closing bracket the parser hung outside it when the subtree
    opens one ("in the Donetsk People's Republic (DPR" + ")")."""
    s, e = tok.left_edge.i, tok.right_edge.i + 1
    doc = tok.doc
    for o, c in _OPEN_CLOSE.items():
        if e < len(doc) and doc[e].text == c:
            words = [t.text for t in doc[s:e]]
            if words.count(o) == words.count(c) + 1:
                return s, e + 1
    # a whole quotation whose marks the parser hung outside it: 'left Kyiv “quickly and without ...,” he said'
    if 0 < s and doc[s - 1].text in _OPENING_QUOTES and not any(t.text in _QUOTES for t in doc[s:e]):
        close = e + 1 if e + 1 < len(doc) and doc[e].text == "," else e  # ('...sentiments,” he said')
        if close < len(doc) and doc[close].text in _CLOSING_QUOTES[doc[s - 1].text]:
            return s - 1, close + 1
    return s, e


_MODALS = {"should", "must", "could", "would", "may", "might", "ought", "can", "will"}


def opinion(verb) -> bool:
    """Whether a clause says what should or could be, not what is: a modal, or "need" ("Governments need to ...",
    "No one should doubt ..."); its speaker stays with it."""
    return verb.lemma_.lower() == "need" or any(c.dep_ == "aux" and c.lower_ in _MODALS for c in verb.children)


def trailing_speech(tok) -> bool:
    """Whether `tok` is a speech verb after the clause it reports, with a subject of its own, that the parser hung
    on that clause ("Governments need to ..., the head of the IMF has told the BBC")."""
    return (tok.lemma_ in SPEECH_VERBS and tok.i > tok.head.i and tok.dep_ in ("parataxis", "conj", "advcl", "ccomp")
            and any(c.dep_ in ("nsubj", "nsubjpass") for c in tok.children))


def is_unit(tok, open_at: np.ndarray) -> bool:
    """Whether `tok`'s subtree may be deleted as a whole (`open_at`: open_quote_at of its sentence)."""
    if tok.dep_ not in UNIT_DEPS or tok.head is tok:
        return False
    start, end = _span(tok)
    if open_at[start] or open_at[end]:
        return False  # never shorten or cut across a quotation (a whole quotation inside the unit may go with it)
    text = [t.text for t in tok.doc[start:end]]
    for o, c in _OPEN_CLOSE.items():
        if text.count(o) != text.count(c):
            return False  # a bracket would be left open
    lemma = tok.lower_
    if tok.head.lower_ in _KEEP_PREPS or tok.head.pos_ == "ADP" or tok.head.dep_ in ("prep", "agent"):
        return False  # "to X" of "according to X", "of" of "because of", "in X" of "including in X"
    if needed_by_verb(tok):
        return False
    if trailing_speech(tok) and opinion(tok.head):
        return False  # "Governments need to subsidise food, the IMF head said": a view, never a fact
    if tok.dep_ in ("acl", "relcl") and tok.head.lemma_.lower() in _INFINITIVE_NOUNS and any(
            c.dep_ == "aux" and c.lower_ == "to" for c in tok.children):
        return False  # "its refusal to join", "in a bid to cut": the noun says nothing without what follows
    if tok.dep_ == "advcl" and tok.head.lemma_.lower() in _AS_VERBS and any(
            c.dep_ == "mark" and c.lower_ == "as" for c in tok.children):
        return False  # "designate the teacher as wrongfully detained"
    if tok.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in ("if", "unless") for c in tok.children):
        return False  # "sanctions, if Russia attacks": a condition is part of the claim
    if tok.dep_ == "acl" and any(c.dep_ == "mark" and c.lower_ == "that" for c in tok.children):
        return False  # "a sign that diplomacy is not dead", "the claim that ...": the noun's content, not a modifier
    if tok.dep_ in ("relcl", "acl", "advcl", "ccomp") and any(
            t.lower_ in ("so", "such") and t.dep_ in ("advmod", "predet", "amod") and t.i < tok.i
            for c in tok.head.children if c is not tok for t in c.subtree):
        return False  # "classifies so much information it puts security at risk": the result is the point
    if dates_a_first(tok):
        return False
    if tok.dep_ in ("relcl", "acl") and tok.head.lower_ in ("those", "one", "anyone", "everyone", "someone", "all"):
        return False  # "inflamed by those who ...": the pronoun means nothing without its clause
    if any(c.lower_ in ("only", "too", "enough") and c.dep_ in ("advmod", "amod") for c in tok.children):
        return False  # "can be called successful only for US strategy", "taking warnings too lightly": the point
    if (start > 0 and doc_hyphen(tok.doc, start - 1)) or (end < len(tok.doc) and doc_hyphen(tok.doc, end)):
        return False  # part of a hyphenated word ("US-supplied")
    if tok.dep_ == "appos" and sum(c.dep_ == "appos" for c in tok.head.children) > 1:
        return False  # a list the parser read as appositions ("Duda, the Polish president, Karis, ..."): no item goes
    if tok.dep_ == "npadvmod" and tok.head.pos_ not in ("VERB", "AUX"):
        return False
    if tok.dep_ == "npadvmod" and end < len(tok.doc) and tok.doc[end].lower_ in ("after", "before", "later", "earlier"):
        return False  # "two weeks after he was last seen": the time between is the news
    if tok.dep_ == "advmod":
        return lemma not in KEEP_ADVERBS and tok.head.pos_ in ("VERB", "AUX") and not any(
            t.dep_ == "neg" for t in tok.subtree) and not any(c.lower_ in _HEDGES for c in tok.children)
    if tok.dep_ == "prep":
        if lemma in _KEEP_PREPS or (lemma == "of" and tok.head.pos_ in ("NOUN", "PROPN", "NUM", "PRON", "ADJ")):
            return False
        if any(lemma in _NOUN_COMPLEMENTS.get(n.lemma_.lower(), ())
               for n in [tok.head] + [c for c in tok.head.children if c.dep_ == "dobj" and c.i < tok.i]):
            return False  # "control over the city" (also where the parser hung it on the verb), "in response to"
        return tok.head.pos_ in ("VERB", "AUX", "NOUN", "PROPN")
    if tok.dep_ == "conj":  # a second clause ("... and expressed regret"), not one of two names
        return tok.pos_ in ("VERB", "AUX") and tok.head.pos_ in ("VERB", "AUX") and not correlated(tok)
    if any(t.dep_ == "neg" for t in tok.subtree) and tok.dep_ in ("advcl", "conj"):
        return True  # a negated side clause may go whole; negation inside what stays is kept
    return True


def correlated(tok) -> bool:
    """Whether `tok` is the second conjunct that an "either", "both" or "neither" before it waits for."""
    return tok.dep_ == "conj" and any(c.lower_ in ("either", "both", "neither") and c.i < tok.i
                                      for c in tok.head.children)


def _since(tok) -> bool:
    """"since ..." (a phrase or a clause), or "in"/"for" a stretch of time ("in 40 years")."""
    return tok.dep_ == "prep" and (tok.lower_ == "since" or tok.lower_ in ("in", "for") and any(
        c.dep_ == "pobj" and c.ent_type_ == "DATE" and any(n.like_num or n.lower_ in ("decades", "years", "decade")
                                                           for n in c.subtree) for c in tok.children)) \
        or tok.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ == "since" for c in tok.children)


def _first(t) -> bool:
    return t.lower_ in ("first", "last") or t.tag_ == "JJS" and t.dep_ == "amod"  # "longest", "worst"


def dates_a_first(tok) -> bool:
    """Whether `tok` is the "since" phrase that dates a "first", "last" or superlative before it, or the phrase
    with that "first": "his first public appearance since Putin apologized", "the longest turmoil since 2001" lose
    their news without either."""
    if _since(tok):
        return any(_first(t) and t.i < tok.i for t in tok.head.subtree)
    return tok.dep_ == "prep" and any(_first(t) for t in tok.subtree) and \
        any(c.i > tok.i and _since(c) for c in tok.head.children)


_INFINITIVE_NOUNS = {"refusal", "decision", "attempt", "bid", "effort", "plan", "failure", "ability", "right", "need",
                     "willingness", "readiness", "intention", "order", "agreement", "promise", "threat", "move",
                     "push", "campaign", "call", "offer", "request", "proposal", "chance", "opportunity", "way",
                     "possibility"}

# Nouns that need their prepositional phrase ("establishes control" of what? "in response" to what?).
_NOUN_COMPLEMENTS = {noun: set(preps.split()) for noun, preps in {
    "control": "over of", "response": "to", "reaction": "to", "reply": "to", "answer": "to", "addition": "to",
    "contrast": "to with", "access": "to", "return": "to", "approach": "to", "sovereignty": "over",
    "jurisdiction": "over", "authority": "over", "refusal": "to", "part": "in", "obstacle": "to",
    "confrontation": "with", "end": "to", "solution": "to", "alternative": "to", "key": "to", "path": "to"}.items()}

# Verbs whose object takes a preposition to make sense: "asks China for help", "provides Kyiv with arms".
_OBJECT_PREPS = {"ask": "for", "provide": "with", "supply": "with", "equip": "with", "arm": "with", "accuse": "of",
                 "charge": "with", "blame": "for", "thank": "for", "call": "on for", "convict": "of", "suspect": "of",
                 "ban": "from", "bar": "from", "prevent": "from", "stop": "from", "protect": "from", "deprive": "of",
                 "inform": "of about", "remind": "of", "warn": "of about against", "turn": "into", "invite": "to", "join": "in",
                 "sentence": "to", "compare": "to with", "link": "to", "tie": "to", "add": "to", "urge": "to",
                 "hand": "to over", "send": "to", "transfer": "to", "deliver": "to", "give": "to", "sell": "to",
                 "put": "on in into under", "place": "on in under", "impose": "on", "exchange": "for", "swap": "for",
                 "take": "by", "catch": "by",  # ("takes the leadership by surprise")
                 "prohibit": "from", "forbid": "from", "designate": "as", "label": "as", "brand": "as",
                 "classify": "as", "recognize": "as", "recognise": "as", "regard": "as", "describe": "as"}
_AS_VERBS = {v for v, preps in _OBJECT_PREPS.items() if "as" in preps.split()}
_OBJECTS = ("dobj", "attr", "ccomp", "xcomp", "acomp", "oprd", "dative", "pcomp")


def needed_by_verb(tok) -> bool:
    """Whether a prepositional phrase or adverb completes its verb, so deleting it would break the sentence:
    the first thing after a verb without an object ("comes under shelling", "steps out of China", "responds to
    criticism"), or the preposition a verb's object needs ("asks China for weapons")."""
    verb = tok.head
    if tok.dep_ not in ("prep", "advmod", "npadvmod") or verb.pos_ not in ("VERB", "AUX") or tok.i < verb.i:
        return False
    if tok.dep_ == "prep" and tok.lower_ in ("on", "at", "during") and any(
            c.dep_ == "pobj" and c.ent_type_ in ("DATE", "TIME") for c in tok.children):
        return False  # "called on Thursday": a date, whatever the verb
    if tok.dep_ == "prep" and tok.lower_ in _OBJECT_PREPS.get(verb.lemma_.lower(), "").split():
        return True
    if any(c.dep_ in _OBJECTS for c in verb.children) or verb.lemma_ == "be" and any(
            c.dep_ == "expl" for c in verb.children):
        return False  # ("Moscow won't be in any hurry": the phrase after a bare "be" is what it says; "there is")
    after = [c for c in verb.children if c.i > verb.i and not c.is_punct and c.dep_ not in ("prt", "neg")]
    return bool(after) and after[0] == tok and tok.i <= verb.i + 2


def doc_hyphen(doc, i: int) -> bool:
    """Whether token i is a hyphen joining words without spaces."""
    t = doc[i]
    return t.text in ("-", "–") and not t.whitespace_ and (i == 0 or not doc[i - 1].whitespace_)


def units(doc) -> list:
    """The deletable tokens of a parsed sentence (each stands for its subtree)."""
    open_at = open_quote_at(doc)
    return [t for t in doc if is_unit(t, open_at)]


_WORD = re.compile(r"[a-z0-9]+")
_MINOR = {"the", "a", "an", "of", "to", "in", "on", "and", "for", "at", "by", "with", "is", "are", "was", "were",
          "has", "have", "had", "be", "been", "that", "as", "from", "its", "it", "this", "their", "his", "her", "or"}


def _key(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def article_counts(sentences: list[str]) -> dict[str, int]:
    """In how many of the article's sentences each content word occurs (lower case, a plural's "s" off): what
    an article keeps coming back to is what its headline keeps."""
    counts: dict[str, int] = {}
    for s in sentences:
        for w in {_key(w) for w in _WORD.findall(s.lower()) if w not in _MINOR}:
            counts[w] = counts.get(w, 0) + 1
    return counts


def recurrence(words, counts: dict[str, int]) -> list[int]:
    """For each content word of `words` (tokens or text), in how many of the article's sentences it occurs
    (article_counts; 1 for a word counted nowhere)."""
    return [counts.get(_key(w), 1) for t in words for w in _WORD.findall(t.lower()) if w not in _MINOR]


def unit_features(tok, doc, counts: dict[str, int] | None = None) -> dict:
    """Features of one deletion unit for the scorer (hashed by name); `counts` (article_counts of the article)
    adds how central the unit's words are to the article."""
    start, end = _span(tok)
    n = end - start
    ents = {e.label_ for e in doc.ents if e.start >= start and e.end <= end}
    f = {f"dep={tok.dep_}": 1.0, f"head_dep={tok.head.dep_}": 1.0, f"pos={tok.pos_}": 1.0, f"tag={tok.tag_}": 1.0,
         f"dep_lemma={tok.dep_}:{tok.lemma_.lower()}": 1.0, f"head_pos={tok.head.pos_}": 1.0,
         f"len={min(n, 12)}": 1.0, "log_len": math.log1p(n), "share": n / max(1, len(doc)),
         "right_of_head": float(tok.i > tok.head.i), "at_end": float(end >= len(doc) - 1),
         "at_start": float(start == 0), "comma_before": float(start > 0 and doc[start - 1].text == ","),
         "has_digit": float(any(t.like_num for t in tok.subtree)), "head_is_root": float(tok.head.dep_ == "ROOT"),
         "under_speech": float(tok.head.lemma_ in SPEECH_VERBS), "bias": 1.0}
    for e in ents:
        f[f"ent={e}"] = 1.0
    if tok.dep_ == "prep" and tok.head.pos_ in ("VERB", "AUX"):  # "aimed at", "asked for": a verb's complement
        f[f"verb_prep={tok.head.lemma_.lower()}:{tok.lower_}"] = 1.0
        f["verb_has_object"] = float(any(c.dep_ in ("dobj", "attr", "ccomp", "xcomp", "acomp", "dative")
                                         for c in tok.head.children))
    if counts is not None:
        seen = [math.log1p(x - 1) for x in recurrence((t.text for t in tok.subtree), counts)]
        f |= {"article_mean": sum(seen) / len(seen) if seen else 0.0, "article_max": max(seen, default=0.0),
              "article_none": float(not any(seen))}
    return f


@dataclass
class DeletionScorer:
    """Logistic regression over hashed unit features: p(the editor deleted this unit)."""
    weights: np.ndarray           # (dim,)
    dim: int = 1 << 14

    def vectorize(self, feats: list[dict]) -> np.ndarray:
        return hash_features(feats, self.dim)

    def probabilities(self, feats: list[dict]) -> np.ndarray:
        if not feats:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-(self.vectorize(feats) @ self.weights)))


def hash_features(feats: list[dict], dim: int):
    """Sparse rows (CSR) of hashed features: a stable hash (crc32), so the same column on every run and machine."""
    from scipy.sparse import csr_matrix
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for k, v in f.items():
            rows.append(i)
            cols.append(zlib.crc32(k.encode()) % dim)
            vals.append(v)
    return csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(feats), dim))


def deleted_tokens(doc, chosen: list) -> np.ndarray:
    """Per token: deleted with one of the `chosen` units. A unit takes the commas that set it off ("Fruman, one of
    his associates, was" -> "Fruman was") and a second clause its conjunction ("and", "but")."""
    n = len(doc)
    gone = np.zeros(n, dtype=bool)
    for tok in chosen:
        s, e = _span(tok)
        gone[s:e] = True
        last = e - 2 if e - s > 2 and doc[e - 1].text in _QUOTES and doc[s].text in _QUOTES else e - 1
        if last > s and doc[last].text == "," and not (s > 0 and doc[s - 1].text == ","):
            gone[last] = False  # the comma closing a subtree sets off what follows: "..., Lavrov says"
        before = s > 0 and doc[s - 1].text == ","
        after = e < n and doc[e].text == ","
        if before and (after or e >= n or doc[e].is_punct and doc[e].text in ".;:!?"):
            gone[s - 1] = True
        if after and (before or s == 0) and (s == 0 or e + 1 >= n or _continues(tok, doc[e + 1])):
            gone[e] = True  # "Fruman, one of his associates, was" -> "Fruman was"; "..., the ministry says" keeps it
        if tok.dep_ == "conj" and s > 0:
            j = s - 1
            if doc[j].dep_ == "cc" or doc[j].lower_ in ("and", "but", "or"):
                gone[j] = True
                if j > 0 and doc[j - 1].text == ",":
                    gone[j - 1] = True
    return gone


def _continues(unit, nxt) -> bool:
    """Whether the sentence carries on past a unit set off by commas without needing the comma ("Fruman, one of
    ..., was" -> "Fruman was"): not when the next word opens the speaker of a trailing attribution ("..., British
    intelligence says")."""
    subj = next((a for a in [nxt, *nxt.ancestors] if a.dep_ in ("nsubj", "nsubjpass")), None)
    return subj is None or subj.left_edge != nxt or subj.head.i < nxt.i or unit in subj.subtree


@dataclass
class Compression:
    keep: np.ndarray          # per token of the sentence: kept
    score: float              # summed log-probability of the decisions
    deleted: int              # units deleted


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p) - math.log(1 - p)


def compressions(doc, probs: np.ndarray, unit_toks: list, max_words: int, min_words: int = 4, k: int = 6,
                 threshold: float = 0.5, word_reward: float = 0.0, max_units: int = 12) -> list[Compression]:
    """The k best deletion sets whose output has `min_words`..`max_words` words (the shortest when none fits).
    A set scores the log-odds of its units' deletion, less those of `threshold`, plus `word_reward` per word
    kept; every set of the `max_units` most probable units is tried (a unit inside another chosen one adds
    nothing, so such sets are skipped). Sets that would open on the verb ("Are the missions ...") are skipped."""
    words = np.array([not t.is_punct for t in doc])
    cand = sorted(zip(probs, unit_toks), key=lambda x: -x[0])[:max_units]
    spans = [_span(t) for _, t in cand]
    inside = [[j for j in range(len(cand)) if j != i and spans[j][0] <= spans[i][0] and spans[i][1] <= spans[j][1]]
              for i in range(len(cand))]
    gains = [_logit(p) - _logit(threshold) for p, _ in cand]
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    first = next((t.i for t in doc if not t.is_punct), 0)
    results, seen = [], set()
    for mask in range(1 << len(cand)):
        chosen = [i for i in range(len(cand)) if mask >> i & 1]
        if any(mask >> j & 1 for i in chosen for j in inside[i]):
            continue
        keep = ~deleted_tokens(doc, [cand[i][1] for i in chosen])
        key = keep.tobytes()
        if key in seen:
            continue
        seen.add(key)
        nw = int((keep & words).sum())
        if nw < min_words:
            continue
        lead = next((t for t in doc if keep[t.i] and not t.is_punct), None)
        if root is not None and lead is not None and lead.i != first and (
                lead == root or lead.head == root and lead.dep_.startswith("aux")):
            continue  # "Among the embassies now open are the missions ..." must not become "Are the missions ..."
        score = sum(gains[i] for i in chosen) + word_reward * nw
        results.append((nw <= max_words, score, nw, Compression(keep, score, len(chosen))))
    fitting = sorted([r for r in results if r[0]], key=lambda r: -r[1])
    if fitting:
        return [r[3] for r in fitting[:k]]
    return [r[3] for r in sorted(results, key=lambda r: r[2])[:1]]


def _splits_subject(doc, comma: int, nxt: int, keep: np.ndarray) -> bool:
    """Whether the kept comma at `comma` would stand alone between a subject and its verb (the kept token `nxt`),
    its partner gone with a deletion ("the paradigm of growth, will deliver")."""
    verb = doc[nxt]
    if verb.pos_ not in ("VERB", "AUX"):
        return False
    head = verb.head if verb.dep_ in ("aux", "auxpass", "neg") else verb
    subj = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass") and c.i < comma), None)
    if subj is None or not subj.left_edge.i <= comma <= subj.right_edge.i + 1:
        return False
    return not any(keep[t.i] and t.text == "," for t in doc[subj.left_edge.i:comma])


def render(doc, keep: np.ndarray, replace: dict | None = None) -> str:
    """The kept tokens as text, with the sentence's own spacing; punctuation left dangling by a deletion goes
    (a comma before a comma or at either end, a dash or colon at the end, an empty pair of brackets)."""
    replace = replace or {}
    toks = [(t.i, replace.get(t.i, t.text), t.whitespace_, t.is_punct) for t in doc if keep[t.i]]
    toks = [x for x in toks if x[1] != ""]
    cleaned = []
    for i, text, ws, punct in toks:
        if punct and text in ",;:—–-" and (not cleaned or cleaned[-1][3] and cleaned[-1][1] in ",;:—–-("):
            continue
        if punct and text in ",;" and cleaned and cleaned[-1][1] in ",;":
            continue
        cleaned.append((i, text, ws, punct))
    cleaned = [x for j, x in enumerate(cleaned) if not (x[1] == "," and j + 1 < len(cleaned)
                                                       and _splits_subject(doc, x[0], cleaned[j + 1][0], keep))]
    while cleaned and cleaned[-1][3] and cleaned[-1][1] in ",;:—–-.":
        cleaned.pop()
    while cleaned and cleaned[0][3] and cleaned[0][1] in ",;:—–-.":
        cleaned.pop(0)
    text = ""
    for j, (i, t, ws, punct) in enumerate(cleaned):
        text += t
        nxt = cleaned[j + 1] if j + 1 < len(cleaned) else None
        if nxt is not None:
            gap = ws if nxt[0] == i + 1 else " "
            if nxt[3] and nxt[1] in ",.;:!?)]%" or t in "([":
                gap = ws if nxt[0] == i + 1 else ""
            text += gap
    return re.sub(r"\(\s*\)", "", text).strip()


# --- ranking whole headline candidates ------------------------------------------------------------
RERANK_FEATURES = ["rank=0", "rank=1", "rank=2", "first_sentence", "deletion_log_odds", "units_deleted", "words/10",
                   "(words/10)^2", "|words-11|/10", "words>14", "words<8", "kept_share", "article_mean",
                   "article_single", "digit", "says", "quote_start", "rewritten", "capital_share", "comma"]


@dataclass
class Candidate:
    """One complete headline a sentence's deletions give, with what the reranker reads about it."""
    text: str
    log_odds: float       # summed log-odds of its deleted units' deletion probabilities
    deleted: int          # units deleted
    kept_share: float     # its words / the sentence's words
    rewritten: bool       # headline style changed a verb or dropped an auxiliary
    alone: bool = True    # it reads on its own (models.compressive.reads_alone); one that does not is a last resort


def rerank_features(c: Candidate, rank: int, sentence: int, counts: dict[str, int], sentence_features) -> np.ndarray:
    """RERANK_FEATURES of one candidate, then the selector's features of its sentence (models.selection)."""
    words = c.text.split()
    n = len(words)
    seen = recurrence([c.text], counts)
    row = [float(rank == 0), float(rank == 1), float(rank == 2), float(sentence == 0), c.log_odds, c.deleted,
           n / 10, (n / 10) ** 2, abs(n - 11) / 10, float(n > 14), float(n < 8), c.kept_share,
           sum(math.log1p(x - 1) for x in seen) / len(seen) if seen else 0.0,
           sum(x <= 1 for x in seen) / len(seen) if seen else 0.0, float(bool(re.search(r"\d", c.text))),
           float(bool(re.search(r"\b(?:says|say|said|tells|told)\b", c.text))), float(c.text[:1] in "\"“‘'"),
           float(c.rewritten), sum(w[:1].isupper() for w in words[1:]) / max(1, n), float("," in c.text)]
    return np.concatenate([np.array(row, dtype=np.float32), np.asarray(sentence_features, dtype=np.float32)])


@dataclass
class Reranker:
    """A linear score over rerank_features: the best-scoring candidate headline is tried first. Trained on
    ROUGE-L against the outlets' headlines (training/train_summarizer.py)."""
    weights: np.ndarray

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.weights

    @classmethod
    def untrained(cls, n_selector: int) -> "Reranker":
        """The best-ranked sentence first; within it, units more likely deleted than 0.9 go, and every kept word
        is worth 1 (the deletion scorer's order, with a per-word reward)."""
        w = np.zeros(len(RERANK_FEATURES) + n_selector, dtype=np.float32)
        for name, v in (("rank=0", 100.0), ("rank=1", 50.0), ("deletion_log_odds", 1.0),
                        ("units_deleted", -_logit(0.9)), ("words/10", 10.0)):
            w[RERANK_FEATURES.index(name)] = v
        return cls(w)
