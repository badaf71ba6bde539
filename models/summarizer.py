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
from safetensors.numpy import load_file, save_file
from spacy.lang.en.stop_words import STOP_WORDS

from .base import (ModelLoadError, atomic_dir, int8, load_pretrained, quiet_transformers, reading_model, require_files,
                   resolve_base, resolve_precision, write_files)
from .compression import RERANK_FEATURES, DeletionScorer, Reranker, article_counts, rerank_features
from .compressive import (clause_alone, compress_teaser, cut_inside_phrase, guarded_cut, headline_candidates, is_clause,
                          phrase_cut, repeats)
from .extractive import (SentenceEncoder, cut_to_budget, extractive_headline, is_furniture, lead_words,
                         select_teaser, split_sentences, strip_lead_in)
from .guard import Guard
from .display import HEADLINE_MAX_CHARS
from .parse import parse, text_problem
from .selection import FEATURES, Selector, candidate_features, lexical_salience, sentence_embeddings

TASKS = ("headline", "teaser")
CUT_WARNING = "headline: cut at the word limit"  # every warning of a headline cut at the word limit starts so
METHODS = ("compressive", "extractive", "generator")  # what can write an output


@dataclass
class SummarizerSettings:
    max_input_chars: int = 20_000   # a longer body is cut here, before any splitter or tokenizer sees it
    max_input_tokens: int = 256     # what the generator reads, and the MiniLM salience pass when there is one
    # MiniLM sentence embeddings as selector features and teaser salience: off by default, measured on validation
    # to add nothing (headline ROUGE-L 23.47 with them, 23.48 without; teaser ROUGE-1 26.0 against 26.1 for the
    # position order) while costing about half the summarizer's time. "minilm" turns them on.
    salience_encoder: str | None = None
    # validation: 16 words +0.9 ROUGE-L over 14; with the 120-character display limit (HEADLINE_MAX_CHARS) 18 words
    # +0.9 over 16 and 20 +0.3 more (500 articles, docs/BENCHMARKS.md); measured again with the later-sentence
    # fallback, 20 words +0.32 over 18 and 22 +0.07 more (test split, same model: 22 +0.15 over 20). The 120
    # characters bind first in most articles: at 22 words 4% of validation headlines have more than 18 words (the
    # Ukrainian outlets' own headlines: median 11 words, 75th percentile 15, 90th 20).
    headline_max_words: int = 22
    teaser_max_words: int = 45
    teaser_min_words: int = 8
    parse_candidates: int = 1       # sentences parsed per output, best-ranked first (see BENCHMARKS: 1 beats 2 and 3)
    later_sentences: int = 2        # tried next, only where the lead would be cut inside a phrase
    last_sentences: int = 10        # tried last, sharing one content word with the lead, before a cut inside a phrase
    teaser_delete_above: float = 0.5
    teaser_word_reward: float = 0.0
    num_beams: int = 4              # the generator's (T5/BART) beam width and candidates checked by the guard
    # Which method writes each output: "compressive" (default), "generator" (a seq2seq checkpoint; compressive as
    # fallback) or "extractive" (the baselines: lead sentence's main clause cut to the word limit; salience).
    headline_method: str = "compressive"
    teaser_method: str = "extractive"  # measured on validation: extractive 26.0 ROUGE-1, compressive 24.2 (BENCHMARKS)
    # The teaser adds to the headline: never the headline's own sentence, nor one restating it (models.compressive
    # .repeats), while another sentence is left. Off, the teaser is the lead sentence and repeats the headline in
    # about 80% of articles (docs/BENCHMARKS.md).
    teaser_adds: bool = True


def _content(text: str) -> set:
    """A headline's content words, by their first five letters (a crude stem: "warned", "warns" -> "warn"; and
    "Russia", "Russian" -> "russi", which the Porter stems of compressive.repeats keep apart: with those, the
    later-sentence headlines scored ROUGE-L 27.62 against 27.71 on 500 validation articles and read worse)."""
    return {w.lower()[:5] for w in re.findall(r"[A-Za-z]{4,}", text) if w.lower() not in STOP_WORDS}


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
                torch_precision = "float32" if precision.startswith("onnx") else precision  # ONNX: classifier only
                generator = int8(generator) if precision == "int8" else generator.to(getattr(torch, torch_precision))
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
            out[task] = (self._extractive_headline(r, guard, warnings_, later=method != "extractive", docs=docs)
                         if task == "headline"
                         else self._extractive(task, r, guard, out.get("headline")))
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
        avoid = self._headline_sentences(headline)
        for i in [i for i in self.ranked(task, r) if i not in avoid][:s.parse_candidates]:
            doc = self._doc(r, docs, i)
            text = compress_teaser(doc, self.scorers["teaser"], s.teaser_max_words, s.teaser_min_words,
                                   s.teaser_delete_above, s.teaser_word_reward, r.counts)
            if text and len(text.split()) < 20 and i + 1 < len(r.sentences):  # a short one takes the next along
                nxt = r.sentences[i + 1]
                if (len(text.split()) + len(nxt.split()) <= s.teaser_max_words and not is_furniture(nxt)
                        and i + 1 not in avoid
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

    def _headline_sentences(self, headline) -> set:
        """The sentences a teaser must not use (`headline`: the headline's (text, method, sentences)): the
        headline's own while `teaser_adds`, else none."""
        return set(headline[2]) if headline and self.settings.teaser_adds else set()

    @staticmethod
    def _doc(r: "Reading", docs: dict, i: int):
        """Sentence i's parse (without its dateline), from `docs` or parsed now and kept there."""
        if i not in docs:
            docs[i] = parse([strip_lead_in(r.sentences[i])])[0]
        return docs[i]

    def headline_candidates(self, r: "Reading", docs: dict, trim: bool = False, ranks: range | None = None,
                            clause: bool = False) -> tuple[list, np.ndarray]:
        """[(sentence index, doc, Candidate)] of the best-ranked sentences (`ranks`: which, default the first
        `parse_candidates`), and their rerank_features rows; with `trim`, the deletions too long for the headline
        stopped at the end of a phrase (models.compressive.trimmed); with `clause`, of each sentence cut to one
        clause (models.compressive.clause_alone), parsed on its own."""
        found, rows = [], []
        ranks = ranks or range(self.settings.parse_candidates)
        order = self.ranked("headline", r)
        for rank in ranks:
            if rank >= len(order):
                break
            i = order[rank]
            doc = self._doc(r, docs, i)
            if clause:
                text = clause_alone(doc.text)
                if text is None:
                    continue
                doc = parse([text])[0]
            for c in headline_candidates(doc, self.scorers["headline"], self.settings.headline_max_words, r.counts,
                                         trim=trim, max_chars=HEADLINE_MAX_CHARS):  # longer: the display would cut it
                found.append((i, doc, c))
                rows.append(rerank_features(c, rank, i, r.counts, r.features[i]))
        return found, (np.stack(rows) if rows else np.zeros((0, len(RERANK_FEATURES) + len(FEATURES)), np.float32))

    def _compressive_headline(self, r: "Reading", docs: dict, guard: Guard, ranks: range | None = None,
                              near: set | None = None, share: int = 2):
        """The reranker's best headline candidate that passes the guard, those that read alone first, or None.
        With `near` (content words, as _content gives them), only candidates that read alone and share `share` of
        them (an empty set: that read alone)."""
        found, rows = self.headline_candidates(r, docs, ranks=ranks)
        if not found:  # no deletions bring it within the limits: the same sentences, stopped at a phrase's end
            found, rows = self.headline_candidates(r, docs, trim=True, ranks=ranks)
        if not found:  # a sentence too long or misparsed: one clause of it, parsed alone
            found, rows = self.headline_candidates(r, docs, trim=True, ranks=ranks, clause=True)
        if not found:
            return None
        order = np.argsort(-self.reranker.scores(rows), kind="stable")
        order = [j for j in order if found[j][2].alone] + [j for j in order if not found[j][2].alone]
        if near is not None:
            order = [j for j in order
                     if found[j][2].alone and (not near or len(near & _content(found[j][2].text)) >= share)]
        for j in order:
            i, doc, c = found[j]
            if guard.check(c.text, doc).ok:
                return c.text, "compressive", [i]
        return None

    def _extractive(self, task: str, r: "Reading", guard: Guard, headline=None):
        """The extractive method: the lead sentence's main clause within the word limit (headline:
        _extractive_headline), the teaser selector's best sentence that stands alone (teaser), never the
        headline's own sentence nor one repeating the headline (`headline`: its (text, method, sentences)) while
        another is left. Never empty."""
        sents = r.sentences
        if task == "headline":
            return self._extractive_headline(r, guard)
        # the teaser selector's order over the first sentences, then the rest in article order (measured on 329
        # validation and train articles with a teaser: ROUGE-1 22.92 against 22.80 by position alone)
        scores = -np.arange(len(sents), dtype=float) - len(sents)
        for k, i in enumerate(self.ranked("teaser", r)):
            scores[i] = -k
        avoid = self._headline_sentences(headline)
        for _ in range(8):  # the teaser adds to the headline: a sentence restating it goes, and the next is tried
            text, chosen = select_teaser(sents, scores, max_words=self.settings.teaser_max_words, avoid=avoid)
            if not avoid or set(chosen) <= avoid or not repeats(headline[0], text):
                break  # (chosen among the avoided: nothing else is left)
            alone = len(chosen) == 2 and not repeats(headline[0], sents[chosen[0]])
            avoid.add(chosen[1] if alone else chosen[0])  # two sentences restating it together: the second goes
        return (guarded_cut(text, guard) or lead_words(r.body, self.settings.teaser_max_words)), "extractive", chosen

    def _extractive_headline(self, r: "Reading", guard: Guard, warnings_: list | None = None, later: bool = False,
                             docs: dict | None = None):
        """The lead sentence's main clause within the limits: stopped at the end of a phrase where one is within
        them (models.compressive.phrase_cut); else, with `later` (the compressive method's fallback), a headline
        from the next-ranked sentences (_later_headline); else cut at the word limit, with a warning saying so in
        `warnings_`. Text spaCy would parse badly is cut at the word limit, with no parse. `docs`: the sentences
        already parsed (Summarizer._doc), which this adds to."""
        s, sents, docs = self.settings, r.sentences, {} if docs is None else docs
        real = [i for i, x in enumerate(sents) if len(x.split()) >= 6]
        lead = next((i for i in real[:3] if not is_furniture(sents[i])), real[0] if real else 0)
        text = extractive_headline(sents[lead], s.headline_max_words, HEADLINE_MAX_CHARS)
        full = extractive_headline(sents[lead], 10 ** 6, speaker=text.endswith(" says"))  # its speaker, as text has
        if not r.problem and (text != full or later):
            cut = False
            if text != full:
                doc = parse([full])[0]
                text = phrase_cut(doc, s.headline_max_words, HEADLINE_MAX_CHARS) or text
                cut = cut_inside_phrase(doc, text)
            no_news = later and (("a question" if sents[lead].rstrip(" ”\"'’").endswith("?") else None) or (
                "not a clause" if not is_clause(self._doc(r, docs, lead)) else None))  # "Pure-bred horses, ..."
            found = later and (cut or no_news) and self._later_headline(r, guard, full, docs, near=not no_news)
            if later and cut and not found:  # a complete headline from further on rather than one cut short
                found = self._later_headline(r, guard, full, docs, last=True)
            if found:
                if warnings_ is not None:
                    warnings_.append(f"headline: built on a later sentence (the lead is {no_news})" if no_news else
                                     "headline: built on a later sentence (the lead has no phrase end within the "
                                     "word limit)")
                return found
            if cut and warnings_ is not None:
                warnings_.append(f"{CUT_WARNING} inside a phrase (no phrase ends within it)")
        elif text != full and warnings_ is not None:
            warnings_.append(CUT_WARNING)
        text = guarded_cut(text, guard)
        return (text or lead_words(r.body, s.headline_max_words)), "extractive", [lead]

    def _later_headline(self, r: "Reading", guard: Guard, lead, docs: dict, near: bool = True, last: bool = False):
        """A compressive headline that reads alone from the next-ranked sentences and, with `near`, shares two
        content words with the lead (`lead`, its text: the story the lead tells), for an article whose lead the
        extractive fallback would cut inside a phrase (or that is not a clause: then no word need be shared); with
        `last`, from the next `last_sentences` and sharing one word (tried when the first gave none and the lead
        would be cut inside a phrase: on the 600 test articles, 6 cuts -> 1, ROUGE-L 25.81 -> 25.72); None when
        they give none."""
        s = self.settings
        ranks = range(s.parse_candidates, s.parse_candidates + (s.last_sentences if last else s.later_sentences))
        return self._compressive_headline(r, docs, guard, ranks=ranks,  # (parsed as needed)
                                          near=_content(lead) if near or last else set(), share=1 if last else 2)

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
