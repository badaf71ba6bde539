"""Sentences, lead baselines and the extractive teaser selector (no training needed).

`select_teaser` takes the best-scored sentence that stands alone (and its successor when it is short); the
summarizer scores sentences with its learned teaser selector (models/selection.py). With `extractive_headline`
it is the summarizer's fallback, and a baseline beside the lead sentence (teaser) and the first 12 words
(headline).
"""
from __future__ import annotations

import re

import numpy as np

_ABBREV = ("Mr", "Mrs", "Ms", "Dr", "Prof", "Gen", "Lt", "Col", "Maj", "Capt", "Sgt", "Rep", "Sen", "Gov", "St",
           "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "No", "Vol",
           "U.S", "U.K", "U.N", "E.U", "Inc", "Co", "Corp", "Ltd", "Jr", "Sr", "vs", "approx", "est", "i.e", "e.g")
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_PROTECT = re.compile(r"\b(" + "|".join(re.escape(a) for a in _ABBREV) + r")\.(?=\s)")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")  # zero-width characters ("(CNN)\u200bKyiv")
_INITIAL = re.compile(r"\b([A-Z])\.(?=\s[A-Z])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph breaks respected, common abbreviations (U.S., Feb., Mr.) kept whole."""
    out = []
    text = _INVISIBLE.sub("", text or "")
    for para in re.split(r"\n\s*\n|\r\n\s*\r\n", text):
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
    """all-MiniLM-L6-v2 (tokenizer and int8 encoder) for sentence embeddings (models.selection.sentence_embeddings)."""

    def __init__(self, model_dir=None):
        from transformers import AutoModel, AutoTokenizer

        from .base import int8, load_pretrained, resolve_base
        where = resolve_base(model_dir)
        self.tokenizer = load_pretrained(AutoTokenizer, where)
        model = load_pretrained(AutoModel, where, add_pooling_layer=False).eval()
        self.model = int8(model)


# What a reader should not meet out of context: the site's furniture ("Sign up for our newsletter"), or a sentence
# that leans on the one before it for its subject or its point ("He said ...", "But ...").
_FURNITURE = re.compile(  # narrow on purpose: "volunteers sign up to fight" and "an advertisement for recruits" are news
    r"\bnewsletters?\b|\bsign(?:ing)? up (?:here|now|today|to (?:get|receive)|for (?:our|the|a) (?:free |daily |weekly )?"
    r"(?:newsletter|email|alerts?))|\bsubscribe (?:now|today|here|to (?:our|this|read|get|receive))|\bclick here\b|^read more\b|"
    r"\bfollow us\b|\ball rights reserved\b|©|\bforwarded this\b|\bdownload (?:the|our) app\b|^advertisement\b|"
    r"\bcan ?not be played\b|\b(?:a )?version of this (?:story|article) (?:appeared|appears|first appeared)\b|"
    r"\bthis live blog is (?:now )?closed\b|^editor['’]s note\b|\bthis copy may not be in its final form\b|"
    r"\bthis is an? rush transcript\b|\bhere['’]s something we['’]ve noticed\b|^you can (?:watch|listen to|stream) .{0,60}\b(?:interview|episode|podcast|documentary|special)\b|"
    r"\b(?:has|have) the latest (?:on|from)\b|\bjoin(?:s|ed)? ['‘][A-Z][^'’]{2,40}['’]|"  # video blurbs
    r"\bon ['‘](?:Fox|America|Special|Your|The|Sunday|Mornings|Hannity|Tucker|Outnumbered|Cavuto|Varney|Kudlow)"
    r"[^'’]{0,40}['’]?\W*$|"  # "... provides updates on 'Fox News Live'"
    r"(?-i:\([1-4](?:st|nd|rd|th) [LR]\)|\((?:L|R) to (?:R|L)\))|\(not pictured\)|"  # captions: "(2nd R)"
    r"(?-i:\bin [A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*(?:, (?:the )?[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*)+,? (?:on )?"  # and
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|"
    r"Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.) \d{1,2}, \d{4}\.?$)", re.I)  # "... in Kyiv, Ukraine, March 4, 2022."
_LEANS_BACK = re.compile(r"^(?:\(|[\"“‘']?(?:He|She|They|It|His|Her|Their|Its|These|Those|But|And|Also|However|Yet|"
                         r"Still|Instead|Then|(?:This|That)(?!\s+(?:morning|afternoon|evening|night|week|weekend|month|"
                         r"year|spring|summer|autumn|fall|winter)\b))\b(?!-))")  # ("Then-president ..." leans on nothing)  # "(For full coverage, see ...)" too


def is_furniture(sentence: str) -> bool:
    """Whether a sentence belongs to the site, not the story ("Sign up for our newsletter", "This video can not be
    played")."""
    return bool(_FURNITURE.search(sentence))


def stands_alone(sentence: str) -> bool:
    """Whether a sentence can open a teaser: not site furniture, not leaning on the sentence before it."""
    return not is_furniture(sentence) and not _LEANS_BACK.match(strip_lead_in(sentence))


def quotes_balanced(sentence: str) -> bool:
    """Whether every quotation the sentence opens it also closes, and it closes none it did not open (a sentence
    split out of a longer quotation: "As for transit, we need to ask Gazprom." / "..., " he said.)."""
    if sentence.count('"') % 2 or sentence.count("“") != sentence.count("”"):
        return False
    return sentence.count("“") == 0 or sentence.index("“") < sentence.index("”")


def select_teaser(sentences: list[str], scores: np.ndarray, max_words: int = 45, min_words: int = 8,
                  avoid=()) -> tuple[str, list[int]]:
    """The best-scoring sentence of a usable length that stands alone (and the next one when both fit in
    `max_words`), without a news-wire dateline ("KYIV, Ukraine (AP) — ") or leading dash. Sentences scored -inf
    are not candidates; the length and standing-alone preferences give way when no sentence meets them. The
    sentences in `avoid` (the headline's own) are never candidates, nor appended, unless nothing but site text is
    left."""
    if not sentences:
        return "", []
    lengths = [len(s.split()) for s in sentences]
    avoid = set(avoid)
    news = [i for i in range(len(sentences)) if not is_furniture(sentences[i])]  # site text only when all is
    scored = ([i for i in news if np.isfinite(scores[i]) and i not in avoid] or [i for i in news if i not in avoid]
              or [i for i in news if np.isfinite(scores[i])] or news or list(range(len(sentences))))
    usable = [i for i in scored if min_words <= lengths[i] <= max_words] or scored
    usable = [i for i in usable if stands_alone(sentences[i]) and quotes_balanced(sentences[i])] or usable
    best = max(usable, key=lambda i: scores[i])
    chosen = [best]
    if (lengths[best] < 20 and best + 1 < len(sentences) and lengths[best] + lengths[best + 1] <= max_words
            and not is_furniture(sentences[best + 1]) and best + 1 not in avoid
            and quotes_balanced(sentences[best + 1])):
        chosen.append(best + 1)
    text = " ".join([strip_lead_in(sentences[best])] + [sentences[i] for i in chosen[1:]])
    if len(text.split()) > max_words:  # one very long sentence: cut at a word boundary
        text = " ".join(cut_words(text.split(), max_words)).rstrip(",;:") + "…"
    return text, chosen


_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][\w.'’-]*(?:[ -][A-Z][\w.'’-]*){0,2}(?:,\s*(?!" + _MONTH + r"\s+\d)[A-Z][a-z]*\.?)?)?"  # KYIV, Ukraine
    r"(?P<date>,?\s+" + _MONTH + r"\s+\d{1,2}[.,]?)?"                                # , April 17
    r"(?P<agency>\s*\([^()]{2,40}\)|\s*/[A-Za-z-]+/\.?)?"                              # (Xinhua) / /TASS/.
    r"(?P<dash>\s+(?:--|—|―|–|-))?(?:\s+|(?<=[)—―–-])(?=[A-Z\"“]))")                     # or "(CNN)The ...", "-On"


# a wire dateline after a photo credit or a place list: "REUTERS/Name MOSCOW, Oct 1 (Reuters) - ", "RIGA/MOSCOW, ..."
_AGENCY_LEAD = re.compile(r"^.{0,160}?\((?:Reuters|AP|AFP|Xinhua|TASS|CNN|UPI|dpa|Bloomberg|Sputnik|ANI|IANS|PTI|"
                          r"Interfax|Ukrinform|UNIAN|BelTA|RIA Novosti|IRNA|Kyodo|Yonhap)\)\s*(?:--|[-—–―])\s+(?=[A-Z\"“‘])")


_PRESS_WIRE = re.compile(r"^[A-Z][\w .,'’/-]{0,60}?--\((?:BUSINESS WIRE|PRNewswire|GLOBE NEWSWIRE|Globe Newswire)\)--"
                         r"(?:\s*[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}\s*--)?\s*(?=[A-Z\"“])|"  # press releases
                         r"^[A-Z][\w .,'’-]{0,60}?\d{4}\s*/PRNewswire(?:-[\w-]+)?/\s*--\s*(?=[A-Z\"“])")


def strip_dateline(sentence: str) -> str:
    """The sentence without a news-wire dateline ("KYIV, April 17 (Reuters) - ", "Moscow — ", "(CNN)"): a
    capitalised start followed by an agency, or by a dash, or an agency alone, before a capitalised rest."""
    m = _AGENCY_LEAD.match(sentence) or _PRESS_WIRE.match(sentence)
    if m and len(sentence) - m.end() >= 20:
        return sentence[m.end():]
    m = _DATELINE.match(sentence)
    rest = sentence[m.end():] if m else ""
    if len(rest) >= 20 and (rest[0].isupper() or rest[0] in "\"“'‘") and (m.group("agency") or m.group("dash")):
        return rest
    return sentence


def strip_lead_in(sentence: str) -> str:
    """The sentence without a photo credit ("(Photo by .../Xinhua) "), a dateline (strip_dateline), a leading dash,
    bullet or colon, or a lead-in that introduces what follows ("EXCLUSIVE:", "Following are the latest developments:"); a message it quotes keeps
    who said it, at the end ("The message reads, in part: X." -> "X, the message says.")."""
    rest = _SHOW_TAG.sub("", _LEADING_MARKS.sub("", strip_dateline(_PHOTO_CREDIT.sub("", sentence))))
    m = _INTRODUCES.match(rest)
    if not m or len(rest) - m.end() < 20:
        return rest
    if m.group("kind"):
        said = rest[m.end():].rstrip(' .”"')
        return f"{said}, the {m.group('kind').lower()} says."
    return rest[m.end():]


_PHOTO_CREDIT = re.compile(r"^(?:\((?:(?:File )?Photos?|Photograph|Image|Picture)(?: by| credit|:)[^()]{1,80}\)\s*)+(?=\S)")
_SHOW_TAG = re.compile(r"^(?:THE|The) TAKE with [A-Z][a-z]+ [A-Z][a-z]+\s+(?=[A-Z])")  # ABC's column tag, no colon
_INTRODUCES = re.compile(r"^(?:(?:The|Her|His|Their|Its) (?P<kind>message|statement|letter|telegram) (?:reads|says)"
                         r"(?:,? in part)?|(?:Following|Here) (?:are|is) (?:the )?(?:latest|key|main) "
                         r"(?:developments|updates|events)[^:]{0,80}|EXCLUSIVE|BREAKING(?: NEWS)?|WATCH|UPDATE|LIVE UPDATES)"
                         r":\s*[\"“]?(?=[A-Z])")


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


# "..., a Ukrainian official said on Sunday." (not "Head of MI6 Richard Moore said ...": there the speaker is the subject)
_ATTRIBUTION = re.compile(r",\s+[^,]{0,80}?\s(?:said|says|reported|announced|told)\b.*$")
# "..., former Bolivian President, Evo Morales, has said." (a speaker with a name in apposition: all of it goes)
_NAMED_ATTRIBUTION = re.compile(r",\s+[^,]{0,60},\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3},\s+(?:has\s+|had\s+)?"
                                r"(?:said|says|reported|announced|told)\b.*$")
# the named speaker of a trailing attribution: its last capitalised word before the speech verb
_SPEAKER_NAME = re.compile(r"\b[A-Z][a-z]+\s+([A-Z][a-zA-Z'’-]+),?\s+(?:has\s+|had\s+)?"
                           r"(?:said|says|reported|announced|told)\b")
_NOT_A_NAME = set("Ministry Office Department Council Agency Service Committee Commission Government Administration "
                  "Command Staff Forces Army Navy Police Court Bank Fund Union News Times Post Journal Press Reuters "
                  "Kremlin House Guard Corps Company Group Party Embassy Mission Secretariat Parliament Duma Senate "
                  "Congress Cabinet Authority Authorities Spokesman Spokeswoman Spokesperson Minister".split())
_VIEW = re.compile(r"\b(?:should|must|ought|need|needs)\b", re.I)
_OPENERS = {"in", "on", "at", "during", "after", "before", "following", "speaking", "according", "as", "while", "when",
            "amid", "despite", "since", "with", "for", "earlier", "later", "meanwhile", "asked"}
_WEEKDAY = re.compile(r"\s+(?:on|in) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
                      r"(?: (?:morning|afternoon|evening|night))?\b")
_PAIRS = {'"': '"', "“": "”", "(": ")", "«": "»"}
_LEADING_MARKS = re.compile(r"^[\s\-–—―:*•·>|]+")  # "— Graphic footage: ...", "* As ..."


def extractive_headline(sentence: str, max_words: int = 14, max_chars: int | None = None,
                        speaker: bool | None = None) -> str:
    """A headline cut from a source sentence: its main clause without a dateline or attribution ("..., an
    official said"; a named speaker stays by surname, "..., Lavrov says", where the whole fits the limits, or
    with `speaker` True whatever it costs, never with `speaker` False) and, as headlines do, without the articles
    a / an / the outside quotations; at most `max_words` words (and `max_chars` characters), never ending on a
    number whose scale or unit was cut off or on a word like "in", never leaving a quotation or bracket open, no
    final stop."""
    sentence = strip_lead_in(sentence)
    s = _ATTRIBUTION.sub("", _NAMED_ATTRIBUTION.sub("", sentence))
    if len(s.split()) < 5 or s.split()[0].lower() in _OPENERS or (s != sentence and _VIEW.search(s)):
        s = sentence  # the attribution was the main clause ("Mayor X said ...", "In Kyiv, the mayor said ..."), or
        # what was said is a view, not a fact ("No one should doubt ..., the ambassador said"): its speaker stays
    elif s != sentence and speaker is not False and (name := _SPEAKER_NAME.search(sentence[len(s):])) \
            and name.group(1) not in _NOT_A_NAME:
        said = f"{s}, {name.group(1)} says"  # a named speaker stays, in headline form: a claim is never a fact
        said_words = _headline_words(said)
        if speaker or len(said_words) <= max_words and (not max_chars or len(" ".join(said_words)) <= max_chars):
            s = said
    words = _headline_words(s)
    n = len(words)
    if n > max_words:
        n = max_words
        for i in range(n - 1, 5, -1):  # prefer ending at a clause break
            if words[i].endswith((",", ";", ":")):
                n = i + 1
                break
    while True:
        cut = cut_words(words, n)
        opened = _open_quote(cut)
        if opened and opened[0] >= 5:  # end before a quotation or bracket the cut would leave open
            n = opened[0]
        elif len(cut) > 4 and (dangles(cut[-1]) or max_chars and len(" ".join(cut)) > max_chars - 2):
            n = len(cut) - 1  # never end on "... in the", nor past the characters a display shows
        else:
            break
    if opened:  # opened among the first words ('"We will rebuild ...'): close it
        cut[-1] = cut[-1].rstrip(".,;:") + ("…" if len(cut) < len(words) else "") + _PAIRS[opened[1]]
    return " ".join(cut).rstrip(".,;: -–—―")


def _headline_words(text: str) -> list[str]:
    """`text`'s words in headline style: no weekday ("on Monday"), no articles (drop_articles)."""
    return drop_articles(re.sub(r",\s*,", ",", _WEEKDAY.sub("", text)).split())  # ", on Monday," leaves ",,"


# "a few" is not "few", nor "a little" "little"; "The Hague" keeps its article
_ARTICLE_STAYS = {"few", "little", "lot", "bit", "couple", "number", "hague", "dozen", "handful", "half", "third",
                  "quarter", "hundred", "thousand", "million", "billion"}  # "around a dozen children"


def drop_articles(words: list[str]) -> list[str]:
    """`words` without the articles a / an / the (headline style: "Russia shells the city of Kharkiv" ->
    "Russia shells city of Kharkiv"), except inside a quotation or bracket, which stays verbatim, and before the
    words that need them (`_ARTICLE_STAYS`). A capitalised article counts only as the first word ("Plan A")."""
    out, quoted = [], _open_marks(words)
    for i, w in enumerate(words):
        nxt = words[i + 1].lower().strip(",;:.\"”)") if i + 1 < len(words) else ""
        prev = words[i - 1].lower() if i else ""
        if (not quoted[i] and w.lower() in ("a", "an", "the") and (i == 0 or w.islower()) and nxt
                and nxt not in _ARTICLE_STAYS and not (w.lower() in ("a", "an") and (
                    re.search(r"\d", prev) or prev in ("once", "twice", "times")))):  # "$95 a barrel" keeps "a"
            continue
        out.append(w)
    if out and words and out[0] != words[0]:
        out[0] = out[0][:1].upper() + out[0][1:]
    return out


def _open_marks(words: list[str]) -> list[list[tuple[int, str]]]:
    """The quotations and brackets open before each word, then those left open after the last word (n + 1
    lists of (index of the word that opened it, mark), outermost first)."""
    stack, out = [], []
    for i, w in enumerate(words):
        out.append(list(stack))
        for ch in w:
            if stack and ch == _PAIRS[stack[-1][1]]:
                stack.pop()
            elif ch in _PAIRS:
                stack.append((i, ch))
    return out + [stack]


def _open_quote(words: list[str]) -> tuple[int, str] | None:
    """Where `words` open a quotation or bracket that they leave open (the word's index and the opening mark)."""
    left = _open_marks(words)[-1]
    return left[0] if left else None


_DANGLING = {"a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "from", "with", "and", "or", "but", "nor",
             "that", "as", "its", "their", "his", "her", "our", "your", "my", "which", "who", "whose", "whom", "what",
             "where", "when", "while", "how", "why", "whether", "if", "because", "since", "until", "unless",
             "although", "though", "than", "into", "onto", "upon", "over", "after", "before", "about", "during",
             "through", "against", "between", "among", "amid", "despite", "without", "within", "across", "toward",
             "towards", "via", "per", "including", "like", "near", "under", "is", "are", "was", "were", "be", "been",
             "being", "has", "have", "had", "do", "does", "did", "will", "would", "can", "could", "may", "might",
             "must", "shall", "should", "not", "this", "these", "those", "he", "she", "they", "we", "i"}
_POSSESSIVE = re.compile(r"^(?:\w[\w.-]*)?['’]s$", re.I)  # "... by Poland's": a possessive waits for its noun


def dangles(word: str) -> bool:
    """Whether a text ending on `word` is cut inside a phrase: a determiner, preposition, conjunction, auxiliary,
    pronoun or possessive ("... in", "... because", "... by Poland's"), outer punctuation aside, or a dash."""
    w = word.lower().strip(",;:\"”’'“‘-–—―")
    return not w or w in _DANGLING or bool(_POSSESSIVE.match(word.strip(",;:\"”“-–—―")))


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
