"""Summarizer: a headline and a teaser for each article body, built from the article's own sentences and checked
against the article before release.

    s = Summarizer.from_pretrained("artifacts/summarizer")
    s.summarize(["The World Bank will provide $200 million ..."])[0]
    # Summary(headline="World Bank to provide $200 million ...", teaser="...", headline_source="compressive", ...)

For each output a learned selector (models/selection.py) ranks the article's first sentences; the best are parsed
with spaCy (models/parse.py) and compressed by deleting whole subtrees (models/compression.py) under the output's
word limit; the headline is put in headline style (models/style.py); every output passes form checks and the
faithfulness guard (models/guard.py). When no candidate passes, or the text is one spaCy cannot parse well (all
capitals, no punctuation, a list, not English), the extractive method (models/extractive.py) writes it, with a
warning. With a sequence-to-sequence checkpoint (T5, BART: `--base-model`), the generator writes each output
through transformers' `generate`, the guard checks its beam candidates, and the compressive method is its fallback.
"""
from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from nltk.stem.porter import PorterStemmer  # rouge-score's own dependency
from rouge_score.tokenize import tokenize
from safetensors.numpy import load_file, save_file

from .base import (ModelLoadError, atomic_dir, int8, load_pretrained, quiet_transformers, reading_model, require_files,
                   resolve_base, resolve_precision, write_files)
from .compression import (RERANK_FEATURES, SPEECH_VERBS, Candidate, DeletionScorer, Reranker, article_counts,
                          compressions, quoted, render, rerank_features, unit_features, units)
from .extractive import (_DANGLING, SentenceEncoder, _open_quote, cut_to_budget, drop_articles, extractive_headline,
                         is_furniture, lead_words, salience, select_teaser, split_sentences, stands_alone,
                         strip_lead_in)
from .guard import Guard
from .parse import parse
from .selection import FEATURES, Selector, candidate_features, sentence_embeddings
from .style import headline_verbs

TASKS = ("headline", "teaser")
PATHS = ("compressive", "extractive", "generator")


@dataclass
class SummarizerSettings:
    max_input_chars: int = 20_000   # a longer body is cut here, before any splitter or tokenizer sees it
    max_input_tokens: int = 256     # what the generator reads, and the MiniLM salience pass when there is one
    # MiniLM sentence embeddings as selector features and teaser salience: off by default, measured on validation
    # to add nothing (headline ROUGE-L 23.47 with them, 23.48 without; teaser ROUGE-1 26.0 against 26.1 for the
    # position order) while costing about half the summarizer's time. "minilm" turns them on.
    salience_encoder: str | None = None
    headline_max_words: int = 16      # validation: 16 words +0.9 ROUGE-L over 14 (docs/BENCHMARKS.md)
    teaser_max_words: int = 45
    teaser_min_words: int = 8
    parse_candidates: int = 3       # sentences parsed per output, best-ranked first
    teaser_delete_above: float = 0.5
    teaser_word_reward: float = 0.0
    num_beams: int = 4              # the generator's (T5/BART) beam width and candidates checked by the guard
    # Which method writes each output: "compressive" (default), "generator" (a seq2seq checkpoint; compressive as
    # fallback) or "extractive" (the baselines: lead sentence's main clause cut to the word limit; salience).
    headline_method: str = "compressive"
    teaser_method: str = "extractive"  # measured on validation: extractive 26.0 ROUGE-1, compressive 24.2 (BENCHMARKS)


@dataclass
class Summary:
    headline: str
    teaser: str
    headline_source: str          # "compressive", "generator", "generator (beam candidate k)" or "extractive"
    teaser_source: str
    evidence: list = field(default_factory=list)   # indices of the body sentences the outputs rest on
    sentences: list = field(default_factory=list)  # the body's sentences (for showing the evidence)
    warnings: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)        # the generator's best beam per output, before the guard

    def to_dict(self) -> dict:
        return asdict(self)


def lexical_salience(sentences: list[str]) -> np.ndarray:
    """Cheap salience: overlap of a sentence's content words with the whole article."""
    bags = [set(w for w in re.findall(r"[a-z0-9]+", s.lower()) if len(w) > 3) for s in sentences]
    counts: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            counts[w] = counts.get(w, 0) + 1
    return np.array([sum(counts[w] - 1 for w in bag) / (len(bag) ** 0.5 + 1) for bag in bags], dtype=float)


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
    if len(words) > 40 and not re.search(r"[.!?](?:\s|$)", body):
        return "text has no sentence punctuation"
    return None


class Summarizer:
    def __init__(self, selectors: dict[str, Selector] | None = None, scorers: dict[str, DeletionScorer] | None = None,
                 settings: SummarizerSettings | None = None, generator=None, tokenizer=None,
                 reranker: Reranker | None = None, split: dict | None = None):
        self.selectors = selectors or {t: Selector.lead_first() for t in TASKS}
        self.scorers = scorers or {t: DeletionScorer(np.zeros(1 << 14, dtype=np.float32)) for t in TASKS}
        self.reranker = reranker or Reranker.untrained(len(FEATURES))  # orders the headline candidates
        self.settings = settings or SummarizerSettings()
        self.generator = generator.eval() if generator is not None else None  # a transformers seq2seq model
        self.tokenizer = tokenizer
        self._encoder = None
        self.split = dict(split or {"valid": 0.05, "test": 0.15})  # the hash split trained on (training/args.py)

    # --- construction and files ---------------------------------------------------------------
    @classmethod
    def from_base(cls, base_model: str | None = None, **kw) -> "Summarizer":
        """An untrained summarizer; with a seq2seq checkpoint (`base_model`: a local directory or Hub id), one
        whose generator that checkpoint is. The default ("minilm") has no generator: MiniLM only embeds."""
        if base_model in (None, "minilm", "default"):
            return cls(**kw)
        from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer
        where = resolve_base(base_model)
        config = load_pretrained(AutoConfig, where)
        if not getattr(config, "is_encoder_decoder", False):
            raise ModelLoadError(f"{base_model}: not a sequence-to-sequence checkpoint (T5, BART); the summarizer's "
                                 "generator needs one. The default (--base-model minilm) trains no generator.")
        return cls(generator=load_pretrained(AutoModelForSeq2SeqLM, where, use_safetensors=True),
                   tokenizer=load_pretrained(AutoTokenizer, where), **kw)

    @classmethod
    def from_pretrained(cls, directory, precision: str = "auto") -> "Summarizer":
        """Load a trained model directory. `precision` means what it means for TopicClassifier.from_pretrained
        (models.base.resolve_precision: "auto" is bfloat16 where the CPU has it natively, else float32) and applies
        to the generator, when there is one; the selector, scorer and reranker are linear and run in float32."""
        precision = resolve_precision(precision)
        directory = Path(directory)
        if not (directory / "config.json").exists():
            raise ModelLoadError(f"no trained summarizer in {directory}: train one with "
                                 f"`newsdesk train-summarizer --models {directory.parent}` (or `make train`)")
        require_files(directory, ("config.json", "model.safetensors"))
        with reading_model(directory):
            config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            if config.get("kind") != "compressive":
                raise ModelLoadError(f"{directory} holds a summarizer of an older design ({config.get('kind', 'BERT2BERT')}); "
                                     f"retrain it with `newsdesk train-summarizer --models {directory.parent}`")
            weights = load_file(directory / "model.safetensors")
            saved = {k.replace("_path", "_method"): v for k, v in config.get("settings", {}).items()}  # older names
            settings = SummarizerSettings(**saved)
            generator = tokenizer = None
            if config.get("generator"):
                from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
                quiet_transformers()
                gen_dir = directory / "generator"
                require_files(gen_dir, ("config.json", "model.safetensors", "tokenizer_config.json"))
                generator = AutoModelForSeq2SeqLM.from_pretrained(gen_dir, use_safetensors=True)
                generator = int8(generator) if precision == "int8" else generator.to(getattr(torch, precision))
                tokenizer = AutoTokenizer.from_pretrained(gen_dir)
            selectors = {t: Selector(weights[f"selector.{t}"]) for t in TASKS}
            scorers = {t: DeletionScorer(weights[f"scorer.{t}"], dim=len(weights[f"scorer.{t}"])) for t in TASKS}
        if config.get("features") != FEATURES or config.get("rerank_features") != RERANK_FEATURES:
            raise ModelLoadError(f"{directory}: its selector or reranker was trained on other features; retrain it")
        return cls(selectors, scorers, settings, generator, tokenizer, Reranker(weights["reranker.headline"]),
                   split=config.get("split"))

    def save_pretrained(self, directory, extra_files: dict[str, str | bytes] | None = None,
                        split: dict[str, float] | None = None) -> None:
        """Write the model directory atomically: config.json, model.safetensors (selector and scorer weights),
        generator/ (when there is one) and any `extra_files` ({name: text or bytes}: metrics, model card). `split`
        ({"valid": fraction, "test": fraction}) records the hash split trained on, which `evaluate --split` reuses."""
        if split is not None:
            self.split = dict(split)
        with atomic_dir(directory) as tmp:
            config = {"kind": "compressive", "task": "headline-and-teaser", "settings": asdict(self.settings),
                      "split": self.split,
                      "features": FEATURES, "rerank_features": RERANK_FEATURES, "generator": self.generator is not None}
            (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
            arrays = {f"selector.{t}": np.asarray(s.weights, np.float32) for t, s in self.selectors.items()}
            arrays |= {f"scorer.{t}": np.asarray(s.weights, np.float32) for t, s in self.scorers.items()}
            arrays["reranker.headline"] = np.asarray(self.reranker.weights, np.float32)
            save_file(arrays, tmp / "model.safetensors")
            if self.generator is not None:
                self.generator.save_pretrained(tmp / "generator")
                self.tokenizer.save_pretrained(tmp / "generator")
            write_files(tmp, extra_files)

    @property
    def methods(self) -> tuple[str, str]:
        """(headline method, teaser method): compressive, generator or extractive."""
        return self.settings.headline_method, self.settings.teaser_method

    @contextlib.contextmanager
    def using_method(self, method: str):
        """Within the block, `method` writes both outputs (evaluate scores the extractive baselines this way)."""
        saved = self.methods
        self.settings.headline_method = self.settings.teaser_method = method
        try:
            yield self
        finally:
            self.settings.headline_method, self.settings.teaser_method = saved

    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = SentenceEncoder()
        return self._encoder

    # --- reading an article ---------------------------------------------------------------------
    def read(self, body: str) -> "Reading":
        """Sentences, salience and candidate features of one body (validated, cut to the input budget)."""
        if not isinstance(body, str):
            raise TypeError(f"article body must be a string, got {type(body).__name__}")
        if not body.strip():
            raise ValueError("article body is empty or whitespace only")
        warnings_ = []
        s = self.settings
        if len(body) > s.max_input_chars:
            cut = body.rfind(" ", 0, s.max_input_chars)
            body = body[:cut if cut > s.max_input_chars // 2 else s.max_input_chars]
            warnings_.append(f"input cut to {s.max_input_chars:,} characters")
        sentences = split_sentences(body) or [" ".join(body.split())]
        lexical = lexical_salience(sentences)
        embeddings = np.zeros((len(sentences), 384), dtype=np.float32)
        keep = list(range(len(sentences)))
        if s.salience_encoder:
            tok = self.encoder().tokenizer
            counts = [len(ids) for ids in tok(sentences, add_special_tokens=False)["input_ids"]]
            keep = cut_to_budget(sentences, counts, s.max_input_tokens - 2, lexical)
            if len(keep) < len(sentences):
                warnings_.append(f"input cut to {s.max_input_tokens} tokens for salience (lead and most salient "
                                 "sentences kept)")
            embeddings[keep] = sentence_embeddings(self.encoder(), [sentences[i] for i in keep], s.max_input_tokens)
        return Reading(body, sentences, keep, embeddings, lexical, candidate_features(sentences, embeddings, lexical),
                       warnings_, text_problem(body), article_counts(sentences))

    # --- writing ---------------------------------------------------------------------------------
    def summarize(self, bodies, batch_size: int = 8) -> list[Summary]:
        """Headline, teaser and provenance for each body (a str gives one Summary). An empty body raises
        ValueError, before any work."""
        single = isinstance(bodies, str)
        bodies = [bodies] if single else list(bodies)
        for b in bodies:  # validate every body first
            if not isinstance(b, str):
                raise TypeError(f"article body must be a string, got {type(b).__name__}")
            if not b.strip():
                raise ValueError("article body is empty or whitespace only")
        results = []
        for start in range(0, len(bodies), batch_size):
            readings = [self.read(b) for b in bodies[start:start + batch_size]]
            generated = self._generate(readings)
            results += [self._write(r, {t: generated[t][i] for t in generated}) for i, r in enumerate(readings)]
        return results[0] if single else results

    def _write(self, r: "Reading", generated: dict) -> Summary:
        warnings_ = list(r.warnings)
        methods = dict(zip(TASKS, self.methods))
        if r.problem and "compressive" in methods.values():
            warnings_.append(f"{r.problem}: headline and teaser taken from the text as it is (extractive)")
            methods = {t: "extractive" if m == "compressive" else m for t, m in methods.items()}
        guard = Guard(r.body)
        out, raw, evidence = {}, {}, set()
        parsed = [t for t, m in methods.items() if m in ("compressive", "generator")] if not r.problem else []
        docs = self._parse_candidates(r, parsed)
        for task in TASKS:
            method = methods[task]
            if method == "generator" and generated.get(task):
                raw[task] = generated[task][0]
                picked = self._pick_generated(task, generated[task], guard, out.get("headline"))
                if picked:
                    out[task] = picked
                    continue
                warnings_.append(f"{task}: no generator candidate passed the guard; compressive used")
                method = "compressive"
            if method in ("compressive", "generator") and not r.problem:
                found = self._compressive(task, r, docs, guard, out.get("headline"))
                if found:
                    out[task] = found
                    continue
                warnings_.append(f"{task}: no sentence compressed to a complete {task}; extractive fallback")
            out[task] = self._extractive(task, r, guard)
        for task in TASKS:
            evidence.update(out[task][2])
        return Summary(out["headline"][0], out["teaser"][0], out["headline"][1], out["teaser"][1], sorted(evidence),
                       r.sentences, warnings_, raw)

    def _parse_candidates(self, r: "Reading", tasks) -> dict:
        """{sentence index: spaCy Doc of the sentence without its dateline} for the best-ranked candidates of
        each of `tasks` (the outputs the compressive method may write), parsed in one batch."""
        want = []
        for task in tasks:
            for i in self.ranked(task, r)[:self.settings.parse_candidates]:
                if i not in want:
                    want.append(i)
        return dict(zip(want, parse([strip_lead_in(r.sentences[i]) for i in want])))

    def ranked(self, task: str, r: "Reading") -> list[int]:
        """Candidate sentence indices for `task`, best first (the selector's order), site text last whatever its
        score. (Photo captions are a learned feature, not a rule: put last by rule, validation headline ROUGE-L
        fell 0.26, the caption pattern also matching news sentences.)"""
        order = self.selectors[task].rank(r.features)
        bad = r.features[:, FEATURES.index("furniture")] > 0
        return [i for i in order if not bad[i]] + [i for i in order if bad[i]]

    def _compressive(self, task: str, r: "Reading", docs: dict, guard: Guard, headline=None):
        s = self.settings
        if task == "headline":
            return self._compressive_headline(r, docs, guard)
        for i in self.ranked(task, r)[:s.parse_candidates]:
            doc = self._doc(r, docs, i)
            text = compress_teaser(doc, self.scorers["teaser"], s.teaser_max_words, s.teaser_min_words,
                                   s.teaser_delete_above, s.teaser_word_reward, r.counts)
            if text and len(text.split()) < 20 and i + 1 < len(r.sentences):  # a short one takes the next along
                nxt = r.sentences[i + 1]
                if (len(text.split()) + len(nxt.split()) <= s.teaser_max_words and not is_furniture(nxt)
                        and not repeats(headline[0] if headline else "", nxt)):
                    text = f"{text} {nxt}"
                    chosen = [i, i + 1]
                else:
                    chosen = [i]
            else:
                chosen = [i]
            if text and not repeats(headline[0] if headline else "", text) and guard.check(text).ok:
                return text, "compressive", chosen
        return None

    @staticmethod
    def _doc(r: "Reading", docs: dict, i: int):
        """Sentence i's parse (without its dateline), from `docs` or parsed now and kept there."""
        if i not in docs:
            docs[i] = parse([strip_lead_in(r.sentences[i])])[0]
        return docs[i]

    def headline_candidates(self, r: "Reading", docs: dict) -> tuple[list, np.ndarray]:
        """[(sentence index, doc, Candidate)] of the best-ranked sentences, and their rerank_features rows."""
        found, rows = [], []
        for rank, i in enumerate(self.ranked("headline", r)[:self.settings.parse_candidates]):
            doc = self._doc(r, docs, i)
            for c in headline_candidates(doc, self.scorers["headline"], self.settings.headline_max_words, r.counts):
                found.append((i, doc, c))
                rows.append(rerank_features(c, rank, i, r.counts, r.features[i]))
        return found, (np.stack(rows) if rows else np.zeros((0, len(RERANK_FEATURES) + len(FEATURES)), np.float32))

    def _compressive_headline(self, r: "Reading", docs: dict, guard: Guard):
        """The reranker's best headline candidate that passes the guard, or None."""
        found, rows = self.headline_candidates(r, docs)
        if not found:
            return None
        for j in np.argsort(-self.reranker.scores(rows), kind="stable"):
            i, doc, c = found[j]
            if guard.check(c.text, doc).ok:
                return c.text, "compressive", [i]
        return None

    def _extractive(self, task: str, r: "Reading", guard: Guard):
        """The extractive method: the lead sentence's main clause cut to the word limit (headline), the most
        salient sentence that stands alone (teaser). Never empty."""
        sents = r.sentences
        if task == "headline":
            real = [i for i, x in enumerate(sents) if len(x.split()) >= 6]
            lead = next((i for i in real[:3] if not is_furniture(sents[i])), real[0] if real else 0)
            text = guarded_cut(extractive_headline(sents[lead], self.settings.headline_max_words), guard)
            return (text or lead_words(r.body, self.settings.headline_max_words)), "extractive", [lead]
        scores = np.full(len(sents), -np.inf)
        scores[r.keep] = salience(r.embeddings[r.keep], positions=r.keep)
        text, chosen = select_teaser(sents, scores, max_words=self.settings.teaser_max_words)
        return (guarded_cut(text, guard) or lead_words(r.body, self.settings.teaser_max_words)), "extractive", chosen

    # --- the optional generator (T5/BART) ---------------------------------------------------------
    @torch.inference_mode()
    def _generate(self, readings: list) -> dict:
        """{task: [candidates per article]} for the outputs the generator writes (none without a generator)."""
        tasks = [t for t, p in zip(TASKS, self.methods) if p == "generator"]
        if self.generator is None or not tasks:
            return {}
        out = {}
        inputs = [" ".join(r.sentences[i] for i in r.keep) for r in readings]
        for task in tasks:
            out[task] = self.candidates(inputs, task)
        return out

    @torch.inference_mode()
    def candidates(self, inputs: list[str], task: str, num_return: int | None = None) -> list[list[str]]:
        """The generator's beam candidates (best first) for each input text, through transformers' `generate`."""
        n = num_return or self.settings.num_beams
        enc = self.tokenize(inputs, task)
        limit = 32 if task == "headline" else 80
        seqs = self.generator.generate(**enc, num_beams=max(n, self.settings.num_beams), num_return_sequences=n,
                                       max_new_tokens=limit, no_repeat_ngram_size=3, early_stopping=True)
        texts = [" ".join(t.split()) for t in self.tokenizer.batch_decode(seqs, skip_special_tokens=True)]
        return [texts[i * n:(i + 1) * n] for i in range(len(inputs))]

    def tokenize(self, inputs: list[str], task: str, targets: list[str] | None = None):
        """Generator inputs with the task prefix ("headline: ...", "teaser: ..."), and labels for `targets`."""
        enc = self.tokenizer([f"{task}: {x}" for x in inputs], truncation=True,
                             max_length=self.settings.max_input_tokens, padding=True, return_tensors="pt",
                             return_token_type_ids=False)  # a BERT tokenizer's segment ids mean nothing to T5/BART
        if targets is not None:
            labels = self.tokenizer(text_target=targets, truncation=True, max_length=64, padding=True,
                                    return_tensors="pt")["input_ids"]
            labels[labels == self.tokenizer.pad_token_id] = -100
            enc["labels"] = labels
        return enc

    def _pick_generated(self, task: str, cands: list[str], guard: Guard, headline=None):
        limit = self.settings.headline_max_words if task == "headline" else self.settings.teaser_max_words
        docs = parse([c for c in cands if c]) if any(cands) else []
        docs = iter(docs)
        for k, cand in enumerate(cands):
            if not cand:
                continue
            doc = next(docs)
            text = cand.rstrip(".") if task == "headline" else cand
            if len(text.split()) > limit or not guard.check(text, doc).ok:
                continue
            if task == "teaser" and headline and repeats(headline[0], text):
                continue
            return text, "generator" if k == 0 else f"generator (beam candidate {k + 1})", []
        return None


@dataclass
class Reading:
    body: str
    sentences: list
    keep: list                 # the sentences the salience pass read (all of them without an encoder)
    embeddings: np.ndarray     # (sentences, 384), zero where not read (everywhere without an encoder)
    lexical: np.ndarray
    features: np.ndarray       # the selectors' candidate features (models.selection.candidate_features)
    warnings: list
    problem: str | None        # why spaCy would parse the text badly (text_problem), or None
    counts: dict = field(default_factory=dict)  # per content word, the sentences it occurs in (article_counts)


# --- compressing one parsed sentence ----------------------------------------------------------------
def compress(doc, scorer: DeletionScorer, max_words: int, min_words: int = 4, k: int = 6, threshold: float = 0.5,
             word_reward: float = 0.0, drop_dates: bool = False, counts: dict | None = None):
    """The k best deletion sets of `doc` under `max_words` (models.compression.compressions); `counts`: the
    article's word counts (models.compression.article_counts), which the scorer reads."""
    toks = units(doc)
    probs = scorer.probabilities([unit_features(t, doc, counts) for t in toks])
    if drop_dates:  # a headline says what happened, not when: "on Tuesday", "last week" always go
        probs = np.where([is_date_phrase(t) for t in toks], 1.0, probs)
    return compressions(doc, probs, toks, max_words, min_words, k, threshold=threshold, word_reward=word_reward)


def stranded_verb(doc, keep) -> bool:
    """Whether the last kept word is a verb that has lost everything after it ("... as Russian forces make")."""
    last = next((t for t in reversed(doc) if keep[t.i] and not t.is_punct), None)
    if last is None or last.pos_ not in ("VERB", "AUX"):
        return False
    if last.lemma_ in SPEECH_VERBS and any(c.dep_ == "ccomp" and c.i < last.i and keep[c.i] for c in last.children):
        return False  # "..., Price says": an attribution needs nothing after it
    right = [c for c in last.children if c.i > last.i and not c.is_punct]
    return bool(right) and not any(keep[c.i] for c in right)


def misparsed_speaker(tok) -> bool:
    """A speech verb joined to the clause before it with no "and" ("..., Boris Gryzlov, envoy to the talks, told
    reporters"): the parser has lost its subject, so compressions of the sentence would drop who speaks."""
    if tok.dep_ != "conj" or tok.lemma_ not in SPEECH_VERBS or any(c.dep_ in ("nsubj", "nsubjpass") for c in tok.children):
        return False
    return not any(c.dep_ == "cc" and c.i < tok.i for c in tok.head.children)


def is_date_phrase(tok) -> bool:
    """Whether a deletion unit only says when: "on Tuesday", "at 5 a.m.", "last week", "on Monday, November 22"."""
    if not (tok.dep_ in ("npadvmod", "tmod") or tok.dep_ == "prep" and tok.lower_ in ("on", "at")):
        return False
    words = [t for t in tok.subtree if not t.is_punct and not (t.i == tok.i and tok.dep_ == "prep")]
    return bool(words) and all(t.ent_type_ in ("DATE", "TIME") for t in words)


def headline_candidates(doc, scorer: DeletionScorer, max_words: int, counts: dict | None = None,
                        k: int = 120) -> list[Candidate]:
    """Every complete headline (a kept main verb, no dangling last word, no quotation or bracket left open, no verb
    stranded, not site text) that deletions of `doc` give within `max_words`, in headline style: the k most
    probable deletion sets, deduplicated. None (an empty list) for a caption, a byline, a fragment, a question or
    a sentence whose parse lost its speaker."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("VERB", "AUX") or not any(
            c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for c in root.children):
        return []  # a caption, a byline or a fragment: no clause to build on
    if any(misparsed_speaker(t) for t in doc) or doc.text.rstrip().endswith("?"):
        return []  # a lost speaker, or a question: a question is not the news
    inside = quoted(doc)
    words_in = max(1, sum(not t.is_punct for t in doc))
    out, seen = [], set()
    for c in compress(doc, scorer, max_words + 2, min_words=3, k=k, drop_dates=True, counts=counts):
        replace, drop = headline_verbs(doc, c.keep, inside)
        keep = c.keep.copy()
        keep[list(drop)] = False
        first = next((t for t in doc if keep[t.i] and not t.is_punct), None)
        if first is not None and first.dep_ == "cc":  # "But what will ..." -> "What will ..."
            keep[first.i] = False
        words = drop_articles(render(doc, keep, replace).split())
        if len(words) > max_words or len(words) < 3 or stranded_verb(doc, keep):
            continue
        text = " ".join(words).rstrip(".,;:")
        text = text[:1].upper() + text[1:]
        if text in seen or not is_headline(text):
            continue
        seen.add(text)
        out.append(Candidate(text, c.score, c.deleted, len(words) / words_in, bool(replace or drop)))
    return out


def compress_headline(doc, scorer: DeletionScorer, max_words: int, counts: dict | None = None,
                      reranker: Reranker | None = None, sentence_features=None) -> str | None:
    """The best headline candidate of `doc` (headline_candidates) by `reranker` (default: the untrained one,
    the deletion scorer's order with a reward per kept word), or None."""
    cands = headline_candidates(doc, scorer, max_words, counts)
    if not cands:
        return None
    x = np.zeros(len(FEATURES), dtype=np.float32) if sentence_features is None else sentence_features
    reranker = reranker or Reranker.untrained(len(FEATURES))
    rows = np.stack([rerank_features(c, 0, 0, counts or {}, x) for c in cands])
    return cands[int(np.argmax(reranker.scores(rows)))].text


def compress_teaser(doc, scorer: DeletionScorer, max_words: int, min_words: int = 8, threshold: float = 0.5,
                    word_reward: float = 0.0, counts: dict | None = None) -> str | None:
    """The best compression of `doc` that stands alone as a teaser sentence of `min_words`..`max_words` words."""
    for c in compress(doc, scorer, max_words, min_words, threshold=threshold, word_reward=word_reward,
                      counts=counts):
        text = render(doc, c.keep)
        words = text.split()
        if not min_words <= len(words) <= max_words or not stands_alone(text) or _open_quote(words):
            continue
        if words[-1].lower().strip(",;:") in _DANGLING:
            continue
        if text[-1:].isalnum() or text[-1:] in "\"”’)":
            text += "." if not text.endswith((".", "!", "?", ".\"", ".”")) else ""
        return text[:1].upper() + text[1:]
    return None


def is_headline(text: str) -> bool:
    """Form checks on a headline: no dangling last word ("... in", "... and"), no open quotation or bracket,
    not site furniture."""
    words = text.split()
    if not words or words[-1].lower().strip(",;:\"”’'") in _DANGLING or _open_quote(words):
        return False
    return not is_furniture(text)


_stem = PorterStemmer().stem
_FUNCTION = {"the", "a", "an", "of", "to", "in", "on", "and", "for", "at", "by", "with", "is", "are", "was", "were",
             "says", "said", "say", "has", "have", "will", "that", "as", "from", "its", "it"}


def repeats(headline: str, teaser: str, share: float = 0.7) -> bool:
    """Whether the teaser repeats the headline's clause: most of the headline's content words (stemmed) recur in
    the teaser, in order (ROUGE-L recall of the headline against the teaser at least `share`)."""
    h = [_stem(w) for w in tokenize(headline, None) if w not in _FUNCTION]
    t = [_stem(w) for w in tokenize(teaser, None) if w not in _FUNCTION]
    if len(h) < 2 or not t:
        return False
    prev = [0] * (len(t) + 1)
    for a in h:  # longest common subsequence
        cur = [0]
        for j, b in enumerate(t):
            cur.append(prev[j] + 1 if a == b else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1] / len(h) >= share


def guarded_cut(text: str, guard: Guard) -> str:
    """Extractive text as the guard passes it: its words are the article's, but a cut can still change a number
    ("500" of "500 million euros"), so trailing words go until every number is supported."""
    words, trimmed = text.split(), False
    while len(words) > 3 and guard.check(" ".join(words)).unsupported_numbers:
        words, trimmed = words[:-1], True
    return " ".join(words) if trimmed else text
