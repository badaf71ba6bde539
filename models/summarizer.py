"""Summarizer: a headline and a teaser for each article body, checked against the article before release.

    s = Summarizer.from_pretrained("artifacts/summarizer")
    s.summarize(["The World Bank will provide $200 million ..."])[0]
    # Summary(headline="World Bank to provide $200 million ...", teaser="...", headline_source="generator", ...)

One sequence-to-sequence model writes both outputs; the first decoder token selects which ([unused0] headline,
[unused1] teaser), so one encoder pass serves both. Long bodies are cut to the input budget by keeping the lead
and the most salient sentences. Every candidate goes through the faithfulness guard (models/guard.py): the first
beam candidate whose numbers and names the article supports is used; if none is, the extractive path
(models/extractive.py) writes the output. An output whose path is set to "extractive" (training chooses, per
output, whichever path scores higher on validation articles) skips generation. Each Summary says which path
wrote it.
"""
from __future__ import annotations

import contextlib
import copy
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import (AutoConfig, AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer, BertConfig, BertLMHeadModel,
                          EncoderDecoderModel)
from transformers.modeling_outputs import BaseModelOutput

from .base import (ModelLoadError, atomic_dir, fp16_weights, int8, load_pretrained, quiet_transformers,
                   reading_model, resolve_base, resolve_precision)
from .extractive import (SentenceEncoder, cut_to_budget, extractive_headline, is_furniture, salience, select_teaser,
                         split_sentences)
from .guard import Guard

TASKS = ("headline", "teaser")
CONTROL_TOKENS = {"headline": "[unused0]", "teaser": "[unused1]"}


@dataclass
class GenerationSettings:
    max_input_tokens: int = 256
    num_beams: int = 4
    no_repeat_ngram_size: int = 3
    headline_max_tokens: int = 24
    headline_min_tokens: int = 4
    headline_max_words: int = 14
    teaser_max_tokens: int = 64
    teaser_min_tokens: int = 10
    teaser_max_words: int = 45
    length_penalty: float = 1.0
    # Which path writes each output: "generator" (the model's beam candidates through the guard, the extractive
    # path as fallback) or "extractive". Training sets each to whichever scores higher on validation articles.
    headline_path: str = "generator"
    teaser_path: str = "generator"


@dataclass
class Summary:
    headline: str
    teaser: str
    headline_source: str          # "generator", "generator (beam candidate k)" or "extractive"
    teaser_source: str
    evidence: list = field(default_factory=list)   # indices of the body sentences the outputs rest on
    sentences: list = field(default_factory=list)  # the body's sentences (for showing the evidence)
    warnings: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)        # the generator's best beam per output, before the guard

    def to_dict(self) -> dict:
        return asdict(self)


def _clean(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?%)])", r"\1", text)
    text = re.sub(r"([($])\s+", r"\1", text)
    text = re.sub(r"\s*([-–/'’])\s*(?=\w)", lambda m: m.group(1) if m.group(1) in "-/'’" else f" {m.group(1)} ", text)
    text = re.sub(r"(\d)\s*,\s*(\d{3})", r"\1,\2", text)
    text = re.sub(r"(\d)\s*\.\s*(\d)", r"\1.\2", text)
    return " ".join(text.split()).strip()


class Truecaser:
    """Restores capitals in lower-cased model output: a word takes the casing it has in the article, else the
    casing most common for it in the training corpus (`lexicon`), else lower case; sentences start upper-case."""

    def __init__(self, lexicon: dict | None = None):
        self.lexicon = lexicon or {}

    @staticmethod
    def article_casing(article: str) -> dict:
        """{lower: the article's usual casing}."""
        forms: dict[str, dict[str, int]] = {}
        for sent in split_sentences(article):
            for i, w in enumerate(re.findall(r"[\w'’-]+", sent)):
                if i == 0 and w[:1].isupper() and w[1:].islower():
                    continue  # sentence-initial capital says nothing
                forms.setdefault(w.lower(), {}).setdefault(w, 0)
                forms[w.lower()][w] += 1
        return {k: max(v, key=v.get) for k, v in forms.items()}

    def __call__(self, text: str, article: str) -> str:
        return self.for_article(article)(text)

    def for_article(self, article: str):
        """The truecasing function for outputs about `article` (its casing read once, for every candidate)."""
        casing = self.article_casing(article)

        def fix(m):
            w = m.group(0)
            if not w.islower():
                return w
            return casing.get(w, self.lexicon.get(w, w))

        def truecase(text: str) -> str:
            text = re.sub(r"[\w'’-]+", fix, text)
            return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)

        return truecase


def bert2bert(base: str | None = None, decoder_layers: int = 2) -> EncoderDecoderModel:
    """Warm-start an encoder-decoder from a BERT-style checkpoint (Rothe et al. 2020): the encoder is the
    checkpoint; the decoder takes its embeddings and its first `decoder_layers` layers, with new cross-attention."""
    where = resolve_base(base)
    encoder = load_pretrained(AutoModel, where, add_pooling_layer=False)
    cfg = BertConfig.from_dict({**encoder.config.to_dict(), "is_decoder": True, "add_cross_attention": True,
                                "num_hidden_layers": decoder_layers, "tie_word_embeddings": True})
    decoder = BertLMHeadModel(cfg)
    state = {k: v for k, v in encoder.state_dict().items()
             if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < decoder_layers}
    missing, _ = decoder.bert.load_state_dict(state, strict=False)
    assert all("crossattention" in k for k in missing), missing
    decoder.cls.predictions.decoder.weight = decoder.bert.embeddings.word_embeddings.weight
    decoder.cls.predictions.transform.dense.weight.data.copy_(torch.eye(cfg.hidden_size))  # start as identity
    decoder.cls.predictions.transform.dense.bias.data.zero_()
    return EncoderDecoderModel(encoder=encoder, decoder=decoder)


def lexical_salience(sentences: list[str]) -> np.ndarray:
    """Cheap salience for cutting long inputs: overlap of a sentence's content words with the whole article."""
    bags = [set(w for w in re.findall(r"[a-z0-9]+", s.lower()) if len(w) > 3) for s in sentences]
    counts: dict[str, int] = {}
    for bag in bags:
        for w in bag:
            counts[w] = counts.get(w, 0) + 1
    return np.array([sum(counts[w] - 1 for w in bag) / (len(bag) ** 0.5 + 1) for bag in bags], dtype=float)


class Summarizer:
    def __init__(self, model, tokenizer, settings: GenerationSettings | None = None, casing: dict | None = None,
                 precision: str = "float32", control: str = "decoder_token", output_vocab: list[int] | None = None,
                 encoder_precision: str | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings or GenerationSettings()
        self.casing = casing or {}
        self.control = control  # "decoder_token" (BERT2BERT) or "prefix" (T5/BART: "headline: ..." input)
        self._sentence_encoder = None
        # What inference computes in (BERT2BERT; a T5/BART model runs in float32 through HF generate):
        # - "int8" (what "auto" gives): an int8 encoder copy, run one article at a time (int8 scales activations
        #   per call, so batching articles would make one article's output depend on another's), and a decoder
        #   copy with float16 weights computing in float32 (no activation scales, so batching is safe).
        # - "bfloat16" (for CPUs with native bfloat16): bfloat16 copies; articles are encoded in batches (each row
        #   on its own, as in float32). Faster in batches of 16 articles, slower for one article at a time than
        #   "int8" (one-off checks on this VM; docs/BENCHMARKS.md has the served mode's speed).
        # - "float32": the weights as trained.
        # The frozen encoder runs in `encoder_precision` when given: the precision whose states the decoder was
        # trained on (recorded in the model's config), unless float32 is asked for.
        wanted = "int8" if precision == "auto" else resolve_precision(precision)
        self.precision = wanted if control == "decoder_token" else "float32"
        self.trained_encoder_precision = resolve_precision(encoder_precision or self.precision)  # what saving records
        self.encoder_precision = self.precision if self.precision == "float32" else self.trained_encoder_precision
        fast_encoder = {"bfloat16": _bf16_copy, "int8": int8}.get(self.encoder_precision)
        self.fast_encoder = fast_encoder(self.model.encoder) if fast_encoder else None
        # The token ids the training targets used (None: all). The beam search scores only these: the vocabulary
        # projection is most of a decoding step, and the model never writes a token it was not trained to write
        # (a check on 60 test articles found no candidate token outside this list, which holds 13.8k of 30.5k ids).
        self.output_vocab = output_vocab

    @property
    def casing(self) -> dict:
        """{lower: Cased} for words the training corpus usually capitalises (truecasing and name spotting)."""
        return self._casing

    @casing.setter
    def casing(self, lexicon: dict) -> None:
        self._casing = dict(lexicon)
        self.truecase = Truecaser(self._casing)
        self.name_words = frozenset(k for k, v in self._casing.items() if v[:1].isupper())

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_base(cls, base_model: str | None = None, decoder_layers: int = 2, **kw) -> "Summarizer":
        """A fresh model: BERT2BERT from the bundled MiniLM (default), or any seq2seq checkpoint."""
        where = resolve_base(base_model)
        tokenizer = load_pretrained(AutoTokenizer, where)
        config = load_pretrained(AutoConfig, where)
        if getattr(config, "is_encoder_decoder", False):
            model = load_pretrained(AutoModelForSeq2SeqLM, where)
            return cls(model, tokenizer, control="prefix", **kw)
        model = bert2bert(where, decoder_layers)
        model.config.decoder_start_token_id = tokenizer.convert_tokens_to_ids(CONTROL_TOKENS["headline"])
        model.config.pad_token_id = tokenizer.pad_token_id
        model.config.eos_token_id = tokenizer.sep_token_id
        model.config.decoder.eos_token_id = tokenizer.sep_token_id
        return cls(model, tokenizer, **kw)

    @classmethod
    def from_pretrained(cls, directory, precision: str = "auto") -> "Summarizer":
        """Load a trained model directory; `precision` ("auto", "bfloat16", "int8", "float32") as in __init__."""
        directory = Path(directory)
        if not (directory / "config.json").exists():
            raise ModelLoadError(f"no trained summarizer in {directory}: train one with "
                                 f"`newsdesk train-summarizer --models {directory.parent}` (or `make train`)")
        if not (directory / "model.safetensors").exists():
            raise ModelLoadError(f"{directory} has no model.safetensors (only safetensors weights are loaded)")
        quiet_transformers()
        with reading_model(directory):
            config = AutoConfig.from_pretrained(directory)
            extra = getattr(config, "newsdesk", None) or {}
            if extra.get("control", "decoder_token") == "prefix":
                model = AutoModelForSeq2SeqLM.from_pretrained(directory, use_safetensors=True)
            else:
                model = EncoderDecoderModel.from_pretrained(directory, use_safetensors=True)
            tokenizer = AutoTokenizer.from_pretrained(directory)
            casing_file = directory / "casing.json"
            casing = json.loads(casing_file.read_text(encoding="utf-8")) if casing_file.exists() else {}
            settings = GenerationSettings(**extra.get("generation", {}))
            vocab_file = directory / "output_vocab.json"
            output_vocab = json.loads(vocab_file.read_text()) if vocab_file.exists() else None
        return cls(model, tokenizer, settings, casing, precision=precision, control=extra.get("control", "decoder_token"),
                   output_vocab=output_vocab, encoder_precision=extra.get("encoder_precision", "int8"))

    def _write(self, directory: Path) -> None:
        self.model.config.newsdesk = {"task": "headline-and-teaser", "control": self.control,
                                      "generation": asdict(self.settings), "encoder_precision": self.trained_encoder_precision}
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / "casing.json").write_text(json.dumps(self.casing, ensure_ascii=False), encoding="utf-8")
        if self.output_vocab is not None:
            (directory / "output_vocab.json").write_text(json.dumps(self.output_vocab))

    @property
    def paths(self) -> tuple[str, str]:
        """(headline path, teaser path): "generator" or "extractive" each."""
        return self.settings.headline_path, self.settings.teaser_path

    @contextlib.contextmanager
    def using_paths(self, path: str):
        """Within the block, `path` writes both outputs (benchmarks time the generator; training compares)."""
        saved = self.paths
        self.settings.headline_path = self.settings.teaser_path = path
        try:
            yield self
        finally:
            self.settings.headline_path, self.settings.teaser_path = saved

    @property
    def output_vocab(self) -> list[int] | None:
        return self._output_vocab

    @output_vocab.setter
    def output_vocab(self, ids) -> None:
        """Restrict generation to these token ids (with the end token); builds the decoder's reduced projection."""
        self._output_vocab = None if ids is None else sorted(set(map(int, ids)) | {self.tokenizer.sep_token_id})
        self.refresh_decoder()

    def refresh_decoder(self) -> None:
        """Let the next beam search rebuild the fast decoder copy it runs (and its output-vocabulary projection)
        from the decoder's current weights. Training calls it before each validation: the copies do not follow
        updates. Built on first use, so a summarizer that serves both outputs extractive never builds them."""
        self._fast_built = False

    @property
    def fast_decoder(self):
        """The decoder copy the beam search runs (None: the decoder itself, in float32)."""
        if not self._fast_built:
            self._build_fast_decoder()
        return self._fast_decoder

    def _build_fast_decoder(self) -> None:
        fast = {"bfloat16": _bf16_copy, "int8": fp16_weights}.get(self.precision)
        self._fast_decoder = fast(self.model.decoder) if fast else None
        self._vocab_head = self._vocab_ids = self._vocab_column = None  # set only for the lean beam search
        if self._output_vocab is not None and self._fast_decoder is not None:
            full = self.model.decoder.cls.predictions.decoder
            head = torch.nn.Linear(full.in_features, len(self._output_vocab))
            self._vocab_ids = torch.tensor(self._output_vocab)
            with torch.no_grad():
                head.weight.copy_(full.weight[self._vocab_ids])
                head.bias.copy_(full.bias[self._vocab_ids])
            self._vocab_head = fast(torch.nn.Sequential(head))  # (fp16_weights converts child modules)
            self._vocab_column = torch.full((full.out_features,), -1).index_put_(
                (self._vocab_ids,), torch.arange(len(self._vocab_ids)))  # token id -> its column (-1: none)
        self._fast_built = True

    def save_pretrained(self, directory) -> None:
        with atomic_dir(directory) as tmp:
            self._write(tmp)

    # --- inputs -------------------------------------------------------------------------------
    def prepare(self, body: str) -> tuple[str, list[str], list[int], bool]:
        """(model input, body sentences, indices kept, whether the body was cut) for one body."""
        if not isinstance(body, str):
            raise TypeError(f"article body must be a string, got {type(body).__name__}")
        if not body.strip():
            raise ValueError("article body is empty or whitespace only")
        sentences = split_sentences(body) or [" ".join(body.split())]
        counts = [len(ids) for ids in self.tokenizer(sentences, add_special_tokens=False)["input_ids"]]
        budget = self.settings.max_input_tokens - 2
        keep = cut_to_budget(sentences, counts, budget, lexical_salience(sentences))
        return " ".join(sentences[i] for i in keep), sentences, keep, len(keep) < len(sentences) or sum(counts) > budget

    def tokenize_inputs(self, texts: list[str], task=None):
        """Tokenized inputs; with a task prefix, `task` is one task or one per text."""
        if self.control == "prefix":
            tasks = [task] * len(texts) if isinstance(task, str) else task
            texts = [f"{t}: {x}" for t, x in zip(tasks, texts)]
        return self.tokenizer(texts, truncation=True, max_length=self.settings.max_input_tokens, padding=True,
                              return_tensors="pt")

    def control_ids(self, task: str) -> list[int]:
        if self.control == "prefix":
            return []
        return [self.tokenizer.convert_tokens_to_ids(CONTROL_TOKENS[task])]

    # --- generation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def candidates(self, inputs: list[str], task: str, num_return: int | None = None) -> list[list[str]]:
        """Beam candidates (best first) of one output kind for each prepared input."""
        return self.generate_all(inputs, (task,), num_return)[task]

    @torch.inference_mode()
    def generate_all(self, inputs: list[str], tasks=TASKS, num_return: int | None = None, encoded=None) -> dict:
        """{task: [[candidates of input 0], ...]}. With a control token, one encoder pass (or `encoded`, what
        `encode(inputs)` returned) and one beam search serve every task (groups: input x task, each with its
        task's length limits); with a task prefix, HF `generate` once per task."""
        s = self.settings
        n = num_return or s.num_beams
        limits = {"headline": (s.headline_min_tokens, s.headline_max_tokens),
                  "teaser": (s.teaser_min_tokens, s.teaser_max_tokens)}
        common = dict(num_beams=s.num_beams, num_return_sequences=n, no_repeat_ngram_size=s.no_repeat_ngram_size,
                      length_penalty=s.length_penalty, early_stopping=True)
        if self.control == "prefix":
            out = {}
            for task in tasks:
                enc = self.tokenize_inputs(inputs, task)
                seqs = self.model.generate(**enc, **common, min_new_tokens=limits[task][0],
                                           max_new_tokens=limits[task][1])
                texts = self._decode(seqs.tolist())
                out[task] = [texts[i * n:(i + 1) * n] for i in range(len(inputs))]
            return out
        states, mask = encoded if encoded is not None else self.encode(inputs)
        groups = [(i, self.control_ids(t)[0], *limits[t]) for i in range(len(inputs)) for t in tasks]
        texts = [self._decode(seqs) for seqs in self._beam_search(states, mask, groups, n)]
        k = len(tasks)
        return {t: [texts[i * k + j] for i in range(len(inputs))] for j, t in enumerate(tasks)}

    @torch.inference_mode()
    def _generate_hf(self, inputs: list[str], task: str, num_return: int | None = None) -> list[list[str]]:
        """What `candidates` gives, computed with HF `generate` (the reference `_beam_search` is tested against)."""
        s = self.settings
        n = num_return or s.num_beams
        lo, hi = {"headline": (s.headline_min_tokens, s.headline_max_tokens),
                  "teaser": (s.teaser_min_tokens, s.teaser_max_tokens)}[task]
        states, mask = self.encode(inputs)
        start = torch.tensor([self.control_ids(task)] * len(inputs))
        seqs = self.model.generate(
            encoder_outputs=BaseModelOutput(last_hidden_state=states), attention_mask=mask, decoder_input_ids=start,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.sep_token_id,
            decoder_start_token_id=start[0, 0].item(), num_beams=s.num_beams, num_return_sequences=n,
            no_repeat_ngram_size=s.no_repeat_ngram_size, length_penalty=s.length_penalty, early_stopping=True,
            min_new_tokens=lo, max_new_tokens=hi)
        texts = self._decode(seqs.tolist())
        return [texts[i * n:(i + 1) * n] for i in range(len(inputs))]

    def _beam_search(self, states, mask, groups, num_return: int) -> list[list[list[int]]]:
        """Beam search with the BERT decoder: what HF `generate` does with num_beams, no_repeat_ngram_size,
        min/max_new_tokens, length_penalty and early_stopping=True, but lean. Self-attention keys and values are
        cached, cross-attention ones are computed once per input and shared by its beams, and each group (one
        input, one task: `(input index, start token, min new tokens, max new tokens)`) leaves the batch as soon as
        it has `num_beams` finished hypotheses. Returns per group the token ids of its `num_return` best finished
        hypotheses (start token first), best first."""
        s, dec = self.settings, self.model.decoder if self.fast_decoder is None else self.fast_decoder
        layers, emb = dec.bert.encoder.layer, dec.bert.embeddings
        nb, ngram, lp = s.num_beams, s.no_repeat_ngram_size, s.length_penalty
        eos, pad = self.tokenizer.sep_token_id, self.tokenizer.pad_token_id
        heads = layers[0].attention.self.num_attention_heads
        vocab_ids = self._vocab_ids  # the scores' columns are these tokens (None: the whole vocabulary)
        column = torch.arange(dec.config.vocab_size) if vocab_ids is None else self._vocab_column
        eos_col = int(column[eos])

        def attend(q, keys_t, v, attn_mask=None, scale=None):
            """Attention by plain matmuls, keys stored transposed (rows, heads, head size, length): for the few
            queries of a decoding step this runs faster than scaled_dot_product_attention's CPU kernel."""
            w = (q @ keys_t) * scale
            if attn_mask is not None:
                w = w.masked_fill(~attn_mask, -float("inf"))
            return torch.softmax(w, dim=-1) @ v

        def split(x):  # (rows, length, hidden) -> (rows, heads, length, head size)
            return x.view(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)

        def merge(x):  # the inverse, for attention outputs
            return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)

        src = torch.tensor([g[0] for g in groups])
        states = states.to(emb.word_embeddings.weight.dtype)
        cross_kv = [(split(l.crossattention.self.key(states)).transpose(2, 3)[src].contiguous(),
                     split(l.crossattention.self.value(states))[src])
                    for l in layers]  # per group: keys (groups, heads, head size, input tokens), values transposed
        cross_mask = None if bool(mask.all()) else mask.bool()[src, None, None, :]
        min_new, max_new = torch.tensor([g[2] for g in groups]), torch.tensor([g[3] for g in groups])
        ids = torch.arange(len(groups))                                    # which group each active group is
        seqs = torch.tensor([g[1] for g in groups]).repeat_interleave(nb)[:, None]  # (groups * beams, tokens)
        scores = torch.full((len(groups), nb), -1e9)                      # running beams' summed log-probs
        scores[:, 0] = 0.0                                                 # (the beams start equal: expand one)
        width = 1 + int(max_new.max())
        done_seqs = torch.full((len(groups), nb, width), pad)             # finished hypotheses, best first
        done_scores = torch.full((len(groups), nb), -float("inf"))        # -inf: slot still empty
        cache = [(None, None) for _ in layers]                            # self-attention keys (transposed), values
        out = [None] * len(groups)
        while len(ids):
            g, cur = len(ids), seqs.shape[1]
            # 1. the decoder on each beam's last token
            tok_type = emb.token_type_embeddings(torch.zeros_like(seqs[:, -1:]))
            x = emb.LayerNorm(emb.word_embeddings(seqs[:, -1:]) + tok_type + emb.position_embeddings.weight[cur - 1])
            for i, l in enumerate(layers):
                a = l.attention.self
                k, v = split(a.key(x)).transpose(2, 3), split(a.value(x))
                if cache[i][0] is not None:
                    k, v = torch.cat([cache[i][0], k], 3), torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                h = l.attention.output(merge(attend(split(a.query(x)), k, v, scale=a.scaling)), x)
                c = l.crossattention.self  # the beams of a group are that group's queries
                q = c.query(h).view(g, nb, heads, -1).transpose(1, 2)
                o = attend(q, *cross_kv[i], attn_mask=cross_mask, scale=c.scaling).transpose(1, 2)
                h = l.crossattention.output(o.reshape(g * nb, 1, -1), h)
                x = l.output(l.intermediate(h), h)
            if self._vocab_head is None:
                logp = torch.log_softmax(dec.cls(x[:, -1]).float(), dim=-1)
            else:  # scores over the output vocabulary only (column c is token vocab_ids[c])
                logp = torch.log_softmax(self._vocab_head(dec.cls.predictions.transform(x[:, -1])).float(), dim=-1)
            vocab = logp.shape[-1]
            # 2. rules: no end before min_new tokens; no n-gram twice (a window matching the last n-1 tokens bans
            # the token that followed them)
            logp[(cur - 1 < min_new).repeat_interleave(nb), eos_col] = -float("inf")
            if cur >= ngram:
                windows = seqs.unfold(1, ngram, 1)
                row, w = (windows[:, :, :-1] == seqs[:, None, cur - ngram + 1:]).all(-1).nonzero(as_tuple=True)
                banned = column[windows[row, w, -1]]
                logp[row[banned >= 0], banned[banned >= 0]] = -float("inf")
            # 3. the 2 * beams best continuations of each group; those ending (end token or length) are finished
            # (each beam's own best 2 * beams hold its group's best 2 * beams: a much shorter sort)
            row_top, row_idx = logp.topk(2 * nb)
            top, j = (row_top.view(g, nb, -1) + scores[..., None]).view(g, -1).topk(2 * nb)
            idx = (j // (2 * nb)) * vocab + row_idx.view(g, -1).gather(1, j)  # beam * vocab + token
            rows = idx // vocab + torch.arange(g)[:, None] * nb
            token = idx % vocab if vocab_ids is None else vocab_ids[idx % vocab]
            cand = torch.cat([seqs[rows], token[..., None]], -1)  # (groups, 2 * beams, cur + 1)
            ended = (token == eos) | (cur >= max_new)[:, None]
            # 4. the best unfinished ones run on; finished ones among the first `beams` join the finished
            # hypotheses, scored by summed log-prob / length ** length_penalty, if they are among the best
            top_run = top + ended.float() * -1e9
            keep = top_run.topk(nb)[1]
            scores, rows, seqs = top_run.gather(1, keep), rows.gather(1, keep), cand[torch.arange(g)[:, None], keep]
            new = torch.where(ended[:, :nb], top[:, :nb] / (cur ** lp), -float("inf"))
            new_seqs = torch.nn.functional.pad(cand[:, :nb], (0, width - cur - 1), value=pad)
            done_scores, best = torch.cat([done_scores, new], 1).topk(nb)
            done_seqs = torch.cat([done_seqs, new_seqs], 1)[torch.arange(g)[:, None], best]
            # 5. a group with `beams` finished hypotheses is done (early stopping); the rest go on
            full = (done_scores > -float("inf")).all(-1)
            for j in full.nonzero()[:, 0].tolist():
                out[ids[j]] = [hyp[hyp != pad].tolist() for hyp in done_seqs[j, :num_return]]
            live = (~full).nonzero()[:, 0]
            rows = rows[live].flatten()
            cache = [(k[rows], v[rows]) for k, v in cache]
            seqs = seqs[live].flatten(0, 1)
            if len(live) < g:
                ids, scores, done_seqs, done_scores = ids[live], scores[live], done_seqs[live], done_scores[live]
                min_new, max_new = min_new[live], max_new[live]
                cross_kv = [(k[live], v[live]) for k, v in cross_kv]
                cross_mask = None if cross_mask is None else cross_mask[live]
        return out

    def encode_one(self, text: str) -> torch.Tensor:
        """Encoder states (tokens x hidden, float32) of one prepared input."""
        return self._encode([text])[0][0]

    def encode(self, inputs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded encoder states (float32) and mask for prepared inputs: in one batch, or one at a time in int8
        (whose activation scales would otherwise mix the articles)."""
        if self.encoder_precision != "int8":
            return self._encode(inputs)
        return pad_states([self.encode_one(t) for t in inputs])

    @torch.inference_mode()
    def _encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.tokenize_inputs(texts)
        encoder = self.fast_encoder or self.model.encoder
        states = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        return states.float(), enc["attention_mask"]

    def _decode(self, seqs: list[list[int]]) -> list[str | None]:
        special = set(self.tokenizer.all_special_ids) | set(self.control_ids("headline") + self.control_ids("teaser"))
        texts = []
        for seq in seqs:
            ids = [i for i in seq if i not in special]
            unknown = self.tokenizer.unk_token_id is not None and self.tokenizer.unk_token_id in seq
            texts.append(None if unknown else _clean(self.tokenizer.decode(ids, skip_special_tokens=True)))
        return texts

    def sentence_encoder(self) -> SentenceEncoder:
        if self._sentence_encoder is None:
            self._sentence_encoder = SentenceEncoder()
        return self._sentence_encoder

    def summarize(self, bodies, batch_size: int = 8) -> list[Summary]:
        """Headline, teaser and provenance for each body. An empty body raises ValueError."""
        single = isinstance(bodies, str)
        bodies = [bodies] if single else list(bodies)
        prepared = [self.prepare(b) for b in bodies]  # validates every body before any work
        results = []
        tasks = [t for t, path in zip(TASKS, self.paths) if path == "generator"]
        for start in range(0, len(bodies), batch_size):
            chunk = prepared[start:start + batch_size]
            inputs = [p[0] for p in chunk]
            encoded = self.encode(inputs) if self.control == "decoder_token" else None
            generated = self.generate_all(inputs, tasks, encoded=encoded) if tasks else {}
            heads, teasers = (generated.get(t, [[]] * len(chunk)) for t in TASKS)
            for i, (body, (_, sentences, keep, cut), hs, ts) in enumerate(zip(bodies[start:], chunk, heads, teasers)):
                states = None if encoded is None else encoded[0][i, :int(encoded[1][i].sum())]
                results.append(self._choose(body, sentences, cut, hs, ts, keep, states))
        return results[0] if single else results

    def extractive_headline(self, sentences: list[str]) -> tuple[str, int]:
        """The extractive headline (the fallback, and a baseline in evaluate): the main clause of the lead (first
        real) sentence, and that sentence's index."""
        real = [i for i, x in enumerate(sentences) if len(x.split()) >= 6]
        lead = next((i for i in real[:3] if not is_furniture(sentences[i])), real[0] if real else 0)
        return extractive_headline(sentences[lead], self.settings.headline_max_words), lead

    def extractive_teaser(self, sentences: list[str], keep: list[int] | None = None,
                          states: torch.Tensor | None = None) -> tuple[str, list[int]]:
        """The extractive selector (the fallback, and a baseline in evaluate): the best of the sentences in `keep`
        (those the model read: for a long body, the lead and the most salient) by MiniLM salience and lead bias.
        With BERT2BERT, a sentence's embedding is the mean of the frozen MiniLM encoder's states over its tokens
        in the model input (`states`, computed here when not given), so the fallback costs no second encoder."""
        keep = list(range(len(sentences))) if keep is None else keep
        kept = [sentences[i] for i in keep]
        if self.control == "decoder_token":
            if states is None:
                states = self.encode_one(" ".join(kept))
            embeddings = span_means(states, [len(t) for t in self.tokenizer(kept, add_special_tokens=False)["input_ids"]])
        else:  # T5/BART: standalone MiniLM sentence embeddings
            embeddings = self.sentence_encoder().encode(kept)
        scores = np.full(len(sentences), -np.inf)
        scores[keep] = salience(embeddings, positions=keep)
        return select_teaser(sentences, scores, max_words=self.settings.teaser_max_words)

    def _choose(self, body, sentences, cut, heads, teasers, keep=None, states=None) -> Summary:
        s = self.settings
        guard = Guard(body, self.name_words)
        truecase = self.truecase.for_article(body) if heads or teasers else None  # (no candidates: not needed)
        warnings_ = [f"input cut to {s.max_input_tokens} tokens (lead and most salient sentences kept)"] if cut else []
        picked, raw = {}, {}
        for task, cands, max_words in (("headline", heads, s.headline_max_words), ("teaser", teasers, s.teaser_max_words)):
            for k, cand in enumerate(cands):
                if not cand:
                    continue
                text = truecase(cand)
                if task == "headline":
                    text = text.rstrip(".")
                raw.setdefault(task, text)
                if len(text.split()) > max_words + 2 or repetitive(text):
                    if k == 0:
                        warnings_.append(f"{task}: best candidate rejected: too long or repetitive")
                    continue
                check = guard.check(text)
                if check.ok:
                    picked[task] = (text, "generator" if k == 0 else f"generator (beam candidate {k + 1})")
                    break
                if k == 0:
                    warnings_.append(f"{task}: best candidate rejected: {'; '.join(check.reasons)}")
        # what the generator wrote faithfully rests on the body sentences sharing its words
        evidence = set(support_sentences(sentences, " ".join(text for text, _ in picked.values()))) if picked else set()
        if "headline" not in picked:
            headline, lead = self.extractive_headline(sentences)
            picked["headline"] = (guarded_cut(headline, guard), "extractive")
            evidence.add(lead)
            if s.headline_path == "generator":
                warnings_.append("headline: extractive fallback")
        if "teaser" not in picked:  # extractive teaser: lead bias plus MiniLM salience
            teaser, chosen = self.extractive_teaser(sentences, keep, states)
            picked["teaser"] = (guarded_cut(teaser, guard), "extractive")
            evidence.update(chosen)
            if s.teaser_path == "generator":
                warnings_.append("teaser: extractive fallback")
        evidence = sorted(evidence)
        return Summary(picked["headline"][0], picked["teaser"][0], picked["headline"][1], picked["teaser"][1],
                       evidence, sentences, warnings_, raw)


def guarded_cut(text: str, guard: Guard) -> str:
    """Extractive text as the guard passes it: its words are the article's, but a cut can still change a number
    ("500" of "500 million euros"), so trailing words go until every number is supported."""
    words, trimmed = text.split(), False
    while len(words) > 3 and guard.check(" ".join(words)).unsupported_numbers:
        words, trimmed = words[:-1], True
    return " ".join(words) if trimmed else text


def pad_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-input encoder states (tokens x hidden, any float dtype) as one float32 batch padded at the end, and
    its attention mask."""
    out = torch.zeros(len(states), max(s.shape[0] for s in states), states[0].shape[1])
    mask = torch.zeros(out.shape[:2], dtype=torch.long)
    for i, s in enumerate(states):
        out[i, :s.shape[0]], mask[i, :s.shape[0]] = s.float(), 1
    return out, mask


def _bf16_copy(module):
    return copy.deepcopy(module).to(torch.bfloat16).eval().requires_grad_(False)


def span_means(states: torch.Tensor, counts: list[int]) -> np.ndarray:
    """Unit-length means of encoder states over consecutive token spans of the given lengths, after [CLS] and
    before [SEP] (a span cut off by truncation gets the zero vector)."""
    out, start, end = np.zeros((len(counts), states.shape[-1]), dtype=np.float32), 1, states.shape[0] - 1
    for j, n in enumerate(counts):
        span = states[start:min(start + n, end)]
        if len(span):
            out[j] = torch.nn.functional.normalize(span.float().mean(0), dim=-1).numpy()
        start += n
    return out


def repetitive(text: str, limit: int = 2) -> bool:
    """True when a content word occurs more than `limit` times ("NATO chief says NATO ... NATO")."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2]
    return any(words.count(w) > limit for w in set(words))


def support_sentences(sentences: list[str], text: str, top: int = 2) -> list[int]:
    """The body sentences sharing the most content words with `text` (what a generated output rests on)."""
    want = set(w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2)
    scores = [len(want & set(re.findall(r"[a-z0-9]+", s.lower()))) for s in sentences]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    return sorted(i for i in ranked[:top] if scores[i] > 0)
