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

import re

import numpy as np

from .compression import SPEECH_VERBS as _SPEECH, trailing_speech

_IRREGULAR_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}
# Past tense and participle of the common irregular verbs: a verb is rewritten only when its written form is the
# past of its lemma (spaCy's lemma of "shone" can be "shin": "shin light" would be wrong).
_IRREGULAR_PAST = {
    "arise": "arose arisen", "bear": "bore borne born", "beat": "beat beaten", "become": "became become",
    "begin": "began begun", "bend": "bent", "bind": "bound", "bite": "bit bitten", "blow": "blew blown",
    "break": "broke broken", "bring": "brought", "build": "built", "buy": "bought", "catch": "caught",
    "choose": "chose chosen", "come": "came come", "cut": "cut", "deal": "dealt", "do": "did done",
    "draw": "drew drawn", "drive": "drove driven", "eat": "ate eaten", "fall": "fell fallen", "feel": "felt",
    "fight": "fought", "find": "found", "flee": "fled", "fly": "flew flown", "forbid": "forbade forbidden",
    "forget": "forgot forgotten", "freeze": "froze frozen", "get": "got gotten", "give": "gave given",
    "go": "went gone", "grow": "grew grown", "have": "had", "hear": "heard", "hide": "hid hidden", "hit": "hit",
    "hold": "held", "keep": "kept", "know": "knew known", "lay": "laid", "lead": "led", "leave": "left",
    "lend": "lent", "let": "let", "light": "lit lighted", "lose": "lost", "make": "made", "mean": "meant",
    "meet": "met", "pay": "paid", "put": "put", "quit": "quit", "read": "read", "ride": "rode ridden",
    "ring": "rang rung", "rise": "rose risen", "run": "ran run", "say": "said", "see": "saw seen",
    "seek": "sought", "sell": "sold", "send": "sent", "set": "set", "shake": "shook shaken", "shine": "shone",
    "shoot": "shot", "show": "showed shown", "shut": "shut", "sink": "sank sunk", "sit": "sat", "sleep": "slept",
    "speak": "spoke spoken", "spend": "spent", "split": "split", "spread": "spread", "stand": "stood",
    "steal": "stole stolen", "stick": "stuck", "strike": "struck", "swear": "swore sworn", "take": "took taken",
    "teach": "taught", "tear": "tore torn", "tell": "told", "think": "thought", "throw": "threw thrown",
    "understand": "understood", "wake": "woke woken", "wear": "wore worn", "win": "won", "withdraw": "withdrew withdrawn",
    "write": "wrote written", "be": "was were been",
}
_TITLES = {"president", "prime", "minister", "secretary", "spokesman", "spokeswoman", "spokesperson", "chancellor",
           "mr.", "ms.", "mrs.", "dr.", "general", "gen.", "king", "queen", "pope", "senator", "sen.", "rep.",
           "governor", "gov.", "mayor", "ambassador", "deputy", "vice", "chairman", "chief", "director", "commander"}


def is_past_of(word: str, lemma: str) -> bool:
    """Whether `word` is the past tense or participle of `lemma`: "granted" of "grant", "fled" of "flee", "shone" of
    "shine"; not "shone" of "shin"."""
    word, lemma = word.lower(), lemma.lower()
    if word in _IRREGULAR_PAST.get(lemma, "").split():
        return True
    if len(lemma) < 2 or re.search(r"([^aeiou])\1e$", lemma):  # a lemma the tagger made up: "bogge" of "bogged"
        return False
    if re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", lemma):  # one syllable ending consonant-vowel-consonant:
        return word == lemma + lemma[-1] + "ed"               # "banned" of "ban"; "shined" is not of "shin"
    return word in (lemma + "ed", lemma + "d", lemma[:-1] + "ied", lemma + lemma[-1:] + "ed")
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
    if any(c.dep_ == "conj" for c in subj.children) and not any(c.text == "&" for c in subj.children):
        return True  # "Russia and Belarus" (but "Hennes & Mauritz" is one company)
    if subj.ent_type_ == "PERSON" and subj.tag_ in ("NNP", "NNPS"):
        return False  # one person, whatever the tagger says of a name ending in s ("Guterres")
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


def headline_verbs(doc, keep: np.ndarray, inside_quote: np.ndarray, surname: bool = False) -> tuple[dict, set]:
    """(token index -> replacement text, token indices to drop) that put the kept main verbs (the root, the clause a
    speech verb reports, and verbs coordinated with them) in headline tense. With `surname`, the root's subject, a
    person named with a title, goes by surname whatever the verb ("Hungarian Foreign Minister Peter Szijjarto
    accuses" -> "Szijjarto accuses"): for a headline too long for the display otherwise."""
    replace, drop = {}, set()
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return replace, drop
    verbs = [root] + [c for c in root.children if c.dep_ == "ccomp" and root.lemma_ in _SPEECH]
    verbs += [c for v in list(verbs) for c in v.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")]
    verbs += [c for c in root.children if c.dep_ == "advcl" and c.tag_ == "VBD" and any(  # "... as investors assess"
        m.dep_ == "mark" and m.lower_ in _SAME_TIME for m in c.children)]
    said = [c for c in root.children if trailing_speech(c) and keep[c.i] and not inside_quote[c.i]]  # "..., X said"
    for v in said:
        _rewrite(v, subject_number(v), keep, replace, drop, main=False)  # ("it was revealed" keeps its "was")
        subj = next(c for c in v.children if c.dep_ in ("nsubj", "nsubjpass"))
        _by_surname(doc, subj, drop, replace, keep)
        drop.update(t.i for c in v.children if c.i > v.i and c.dep_ in ("prep", "npadvmod")
                    and all(x.ent_type_ in ("DATE", "TIME") for x in c.subtree if x.dep_ != "prep")
                    for t in c.subtree)  # "on Wednesday"
    if _past_beside(root, keep, inside_quote, skip=set(said)):
        verbs = []  # a clause of its own stays in the past: the main verb too ("prices rose 2%, and Brent rose")
    if any(keep[t.i] and not inside_quote[t.i] and t.text in _FIRST_PERSON for t in doc):
        verbs = []  # words someone said without the marks ("... throughout my time as an MP - Kwarteng") stay as said
    unchanged = set()
    for v in verbs:
        if not keep[v.i] or inside_quote[v.i]:
            continue
        own = any(c.dep_ in ("nsubj", "nsubjpass") for c in v.children)
        if v.dep_ == "conj" and (own or v.head.i in unchanged):
            continue  # a clause of its own after the main one stays as written, and so does a verb joined to one
            # left as written ("have either been displaced, or have left")
        before = (len(replace), len(drop))
        clause = v.head if v.dep_ == "conj" else v  # (a verb joined to the reported clause is reported too)
        _rewrite(v, subject_number(v if own else v.head), keep, replace, drop, main=v.dep_ not in ("conj", "advcl"),
                 reported=clause.dep_ == "ccomp" and clause.i > clause.head.i)
        if (len(replace), len(drop)) == before:
            unchanged.add(v.i)
        if v.dep_ == "ccomp":  # "Kremlin says that ..." -> "Kremlin says ..."
            drop.update(c.i for c in v.children if c.dep_ == "mark" and c.lower_ == "that" and c.i < v.i)
    if root.lemma_ in _SPEECH and keep[root.i] and not inside_quote[root.i]:
        _short_attribution(doc, root, keep, replace, drop)
    if surname and keep[root.i] and not inside_quote[root.i]:
        subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass") and keep[c.i]), None)
        if subj is not None:
            _by_surname(doc, subj, drop, replace, keep)
    drop.update(_wire_here(doc, inside_quote))
    return replace, drop


def _wire_here(doc, inside_quote) -> set:
    """The wire services' "here" and "in this capital" (the dateline's city, which a headline does not have):
    "meets with Sullivan here" -> "meets with Sullivan"."""
    out = set()
    for t in doc:
        if inside_quote[t.i]:
            continue
        if t.lower_ == "here" and t.dep_ == "advmod" and t.head.pos_ in ("VERB", "AUX") and t.i > t.head.i and (
                t.i + 1 == len(doc) or doc[t.i + 1].text != ","):  # ("end here, in Donbas" says where)
            out.add(t.i)
        elif t.dep_ == "prep" and t.lower_ == "in" and any(
                c.dep_ == "pobj" and c.lower_ in ("capital", "city") and any(d.lower_ == "this" for d in c.children)
                and len(list(c.subtree)) == 2 for c in t.children):
            out.update(x.i for x in t.subtree)
    return out


_FIRST_PERSON = {"I", "me", "my", "My", "we", "We", "us", "our", "Our"}  # (case kept: "US" is no "us")
_SAME_TIME = {"as", "while", "when", "after", "because", "amid"}  # a clause told in the main verb's tense


def _past_beside(root, keep, inside_quote, skip=frozenset()) -> bool:
    """Whether a kept clause with a subject of its own beside the main one (a second conjunct, a clause after a
    semicolon, a "since" clause) is in the past, where the main verb's headline present would clash with it."""
    for c in root.children:
        if not keep[c.i] or inside_quote[c.i] or c in skip or c.dep_ not in ("conj", "parataxis", "advcl", "ccomp"):
            continue
        if c.dep_ == "ccomp" and (c.i > root.i or root.lemma_ in _SPEECH):
            continue  # a reported clause; a clause before the main verb is one of its own ("X ended; they lasted")
        if c.dep_ == "advcl" and not any(m.lower_ == "since" for m in c.children if m.dep_ == "mark"):
            continue
        if c.tag_ == "VBD" and any(s.dep_ in ("nsubj", "nsubjpass") for s in c.children):
            return True
    return False


def _short_attribution(doc, root, keep, replace: dict, drop: set) -> None:
    """Who speaks, in headline form: a person by surname ("President Vladimir Putin says" -> "Putin says",
    "Russian Foreign Ministry spokeswoman Maria Zakharova" -> "Zakharova"), and "told reporters" as "says". Only
    where the speech verb reports a clause (a ccomp), the speaker is named and nothing follows the name ("Putin
    and Biden" stay)."""
    if not any(c.dep_ == "ccomp" and keep[c.i] for c in root.children):
        return
    subj = next((c for c in root.children if c.dep_ == "nsubj" and keep[c.i]), None)
    if subj is None:
        return
    if root.lemma_ == "tell" and root.i in replace:  # "Putin told reporters" -> "Putin says"
        obj = next((c for c in root.children if c.dep_ in ("dobj", "dative") and c.i > root.i), None)
        if obj is not None and not any(t.ent_type_ == "PERSON" for t in obj.subtree):
            plural = subject_number(root)
            if plural is not None:
                replace[root.i] = _case(present("say", plural), doc[root.i].text)
                drop.update(t.i for t in obj.subtree)
    span = range(subj.left_edge.i, subj.right_edge.i + 1)
    if not (subj.lower_ == "one" and _one_of(doc, subj, span, drop, replace, keep)):
        _by_surname(doc, subj, drop)


_PARTICLES = {"le", "la", "de", "du", "des", "von", "van", "der", "den", "al", "el", "bin", "ben", "da", "di", "dos",
              "del", "ter", "st.", "abu"}


def _surname_start(person) -> int:
    """Where the surname of the name `person` (a Span) starts: its last word, with the particles before it ("Le
    Maire", "von der Leyen"), never the first word."""
    if len(person) <= 3 and person[0].text in _FAMILY_NAME_FIRST:
        return person.start  # "Wang Wenbin", "Xi Jinping": the family name comes first; the whole name stays
    start = person.end - 1
    while start - 1 > person.start and person.doc[start - 1].lower_ in _PARTICLES:
        start -= 1
    return start


# Common Chinese family names, written first ("Wang Wenbin" is Mr Wang): such a name is never cut to its last word.
_FAMILY_NAME_FIRST = set("Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Hu Zhu Gao Lin Guo Ma Luo Liang Song "
                         "Zheng Xie Han Tang Feng Dong Xiao Cheng Cao Yuan Deng Fu Shen Zeng Peng Lu Su Jiang Cai Jia "
                         "Ding Wei Xue Ye Yan Pan Du Dai Xia Zhong Tian Ren Fan Fang Shi Yao Tan Liao Zou Xiong Jin Hao "
                         "Kong Bai Cui Kang Mao Qiu Qin Xi Hua Geng".split())


_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ean|ese|ish)$")  # "Ukrainian", "Chinese", "Polish" (a "Brian" stays whole)


def _by_surname(doc, subj, drop: set, replace: dict | None = None, keep: np.ndarray | None = None) -> None:
    """Drop all of the subject `subj` but the surname, where it is a person's name of two words or more that ends
    the subject, with nothing after it ("Russian Foreign Ministry spokeswoman Maria Zakharova" -> "Zakharova").
    Given `replace`, also a subject whose apposition, ending it, is one person's name ("The head of the Russian
    forces, Igor Kirilov," -> "Kirilov"; even where a deletion took the apposition)."""
    ents = [e for e in doc.ents if e.start <= subj.i < e.end]
    span = range(subj.left_edge.i, subj.right_edge.i + 1)
    if ents and ents[0].label_ == "PERSON":
        person = ents[0]
        if subj.i != person.end - 1 or len(person) < 2 or person.start < span.start or span[-1] != subj.i or \
                _DEMONYM.match(person[0].text):
            return  # ("the 83-year-old Ukrainian Jew", which the small model's NER calls a person, is not a name)
        drop.update(i for i in span if i < _surname_start(person))
        return
    if replace is None or ents:
        return
    if subj.lower_ == "one" and _one_of(doc, subj, span, drop, replace, keep):
        return
    last = next((doc[i] for i in reversed(span) if not doc[i].is_punct), None)
    if last is None or last.dep_ != "appos" or last.i <= subj.i:
        return
    name = [t for t in last.subtree if not t.is_punct]
    if not (2 <= len(name) <= 4 and all(t.pos_ == "PROPN" and t.text[:1].isupper() or t.lower_ in _PARTICLES
                                        for t in name) and name[-1].text[:1].isupper()
            and all(t.ent_type_ in ("", "PERSON") for t in name)):
        return  # a person's name (the small model's NER misses some: "Igor Kirilov"), not a place or a body
    if keep is not None and not all(keep[i] for i in range(span.start, subj.i + 1)):
        return  # the subject's own words were cut into: leave it as it is
    surname = doc[_surname_start(doc[name[0].i:name[-1].i + 1]):last.i + 1].text
    replace[subj.i] = _case(surname, doc[subj.left_edge.i].text)
    drop.update(i for i in span if i != subj.i)


def _one_of(doc, subj, span, drop: set, replace: dict, keep) -> bool:
    """A speaker "one of his closest henchmen" as "henchman" (its noun, singular, with the words that say what kind:
    "one of the Ukrainian officials" -> "Ukrainian official"); False where the subject is not of that form."""
    of = next((c for c in subj.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    noun = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
    if noun is None or noun.tag_ not in ("NNS", "NNPS") or noun.right_edge.i != span[-1]:
        return False
    if keep is not None and not all(keep[i] for i in span):
        return False
    kind = [c for c in noun.children if c.i < noun.i and (c.dep_ == "compound" or c.dep_ == "amod" and c.tag_ == "JJ")]
    if any(list(c.subtree) != [c] for c in kind):
        return False
    words = [c.text for c in kind] + [noun.lemma_]
    replace[subj.i] = _case(" ".join(words), doc[span.start].text)
    drop.update(i for i in span if i != subj.i)
    return True


_BEFORE = {"previously", "earlier", "formerly", "once"}
# verbs of a state, which a reported clause puts in the present like the main verb ("says he wants talks")
_STATES = {"be", "have", "want", "need", "expect", "believe", "know", "think", "remain", "plan", "intend", "oppose",
           "support", "hope", "seem", "appear", "fear", "wish", "consider", "see", "understand", "doubt", "mean"}


def _rewrite(v, plural: bool | None, keep, replace: dict, drop: set, main: bool = True,
             reported: bool = False) -> None:
    """`reported`: the clause after a speech verb, where "will" stays ("Psaki says Biden will sign"; but
    "Russia to expand list of targets, Putin says")."""
    auxes = [c for c in v.children if c.dep_ in ("aux", "auxpass") and keep[c.i] and c.i < v.i]
    neg = any(c.dep_ == "neg" for c in v.children)
    words = [a.lower_ for a in auxes]
    if v.tag_ == "VBN" and any(a.dep_ == "auxpass" for a in auxes) and not neg and main:
        if "will" in words and not reported:  # "will be led by" -> "to be led by"
            will = auxes[words.index("will")]
            replace[will.i] = _case("to", will.text)
            return
        if any(c.dep_ == "nsubjpass" and c.lower_ == "it" for c in v.children) or any(
                c.dep_ == "conj" and keep[c.i] and any(a.dep_ == "aux" for a in c.children) for c in v.children):
            return  # "it was revealed", "it is reported": no one in particular did it; "have been displaced, or
            # have left" keeps the pair alike
        if set(words) <= {"was", "were", "is", "are", "has", "have", "been", "being", "had"} and "had" not in words:
            drop.update(a.i for a in auxes)  # "was arrested" -> "arrested"
        return
    if reported and v.lemma_.lower() not in _STATES or any(
            c.dep_ == "advmod" and c.lower_ in _BEFORE and keep[c.i] for c in v.children):
        return  # what someone says happened keeps its tense ("Russia says it tested ...", not "... it tests"; but
        # "says visit is ...", "says he wants ..."), and so does what "previously" happened
    if plural is None:
        return
    subject_first = all(c.i < auxes[0].i for c in v.children if c.dep_ in ("nsubj", "nsubjpass")) if auxes else True
    if not subject_first:
        return  # a question ("What will the response be?") keeps its word order and tense
    if words == ["will"] and v.tag_ == "VB" and not neg and not reported:  # "will provide" -> "to provide"
        if main:
            replace[auxes[0].i] = _case("to", auxes[0].text)
        elif any(replace.get(a.i, "").lower() == "to" for a in v.head.children if a.dep_ == "aux"):
            drop.add(auxes[0].i)  # "to send troops and build ...", never "... but to head to Romania"
        return
    if v.tag_ in ("VBD", "VBN") and not is_past_of(v.text, v.lemma_):
        return  # the lemma does not fit the written form: leave the verb as written
    if words in (["has"], ["have"]) and v.tag_ == "VBN" and not neg:  # "has banned" -> "bans"
        drop.add(auxes[0].i)
        replace[v.i] = present(v.lemma_.lower(), plural)
        return
    if words in (["did"],) and neg:  # "did not attend" -> "does not attend"
        replace[auxes[0].i] = _case("do" if plural else "does", auxes[0].text)
        return
    if not auxes and v.tag_ == "VBD" and v.lemma_.isalpha():  # "granted" -> "grants", "were" -> "are"
        replace[v.i] = _case(present(v.lemma_.lower(), plural), v.text)
