"""Deterministic train/valid/test splits that keep rewrites of one story on one side.

Wire stories are rewritten by many outlets ("Russia expels 10 diplomats" / "Russia expels ten diplomats -
Reuters"), so splitting row by row would leak test headlines into training. Articles are grouped by exact
and near-duplicate headlines (token-set Jaccard >= `threshold`, found exactly with a prefix filter), and
each group goes to the split chosen by a stable hash of the group's key. The result depends only on the set
of articles, not on their order, and never on a random state.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict

SPLITS = ("train", "valid", "test")
_STOP = frozenset(
    "a an the of to in on at for and or but with by from as is are was were be been has have had it its "
    "this that these those after over into says said say will would can could may not no new".split())
_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")  # " - Reuters", " | CNN Politics"


def headline_tokens(article) -> tuple[str, ...]:
    """Content words of the headline (or, without one, of the first words of teaser/body)."""
    text = article.headline or " ".join((article.teaser or article.body or "").split()[:20])
    text = _SUFFIX.sub("", text.strip())
    return tuple(t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _STOP)


class _UnionFind:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def duplicate_groups(articles, threshold: float = 0.6) -> list[str]:
    """One group key per article; articles with equal or near-equal headlines share a key."""
    token_sets = [frozenset(headline_tokens(a)) for a in articles]
    uf = _UnionFind(len(articles))
    by_exact = {}
    for i, toks in enumerate(token_sets):
        key = " ".join(sorted(toks)) or f"\0{articles[i].id}"
        if key in by_exact:
            uf.union(i, by_exact[key])
        else:
            by_exact[key] = i
    # prefix filter: two sets with Jaccard >= t share a token among their p rarest, p = |s| - ceil(t|s|) + 1
    df = defaultdict(int)
    for toks in token_sets:
        for t in toks:
            df[t] += 1
    index = defaultdict(list)
    for i, toks in enumerate(token_sets):
        if len(toks) < 3:
            continue  # too short to call a near-duplicate; exact matches were handled above
        ordered = sorted(toks, key=lambda t: (df[t], t))
        for t in ordered[: len(toks) - math.ceil(threshold * len(toks)) + 1]:
            for j in index[t]:
                a, b = token_sets[i], token_sets[j]
                if uf.find(i) != uf.find(j) and len(a & b) >= threshold * len(a | b):
                    uf.union(i, j)
            index[t].append(i)
    members = defaultdict(list)
    for i in range(len(articles)):
        members[uf.find(i)].append(i)
    keys = [""] * len(articles)
    for group in members.values():
        key = min(" ".join(sorted(token_sets[i])) or f"\0{articles[i].id}" for i in group)
        for i in group:
            keys[i] = key
    return keys


def _bucket(key: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(articles, valid: float = 0.15, test: float = 0.15, salt: str = "newsdesk-v1",
                  threshold: float = 0.6) -> list[str]:
    """'train', 'valid' or 'test' for each article, by a stable hash of its duplicate group."""
    if not (0 <= valid < 1 and 0 <= test < 1 and valid + test < 1):
        raise ValueError("valid and test fractions must be in [0, 1) and sum to less than 1")
    out = []
    for key in duplicate_groups(articles, threshold):
        u = _bucket(key, salt)
        out.append("test" if u < test else "valid" if u < test + valid else "train")
    return out


def split_articles(articles, **kwargs) -> dict[str, list]:
    """{'train': [...], 'valid': [...], 'test': [...]} preserving input order within each split."""
    parts = {name: [] for name in SPLITS}
    for article, name in zip(articles, assign_splits(articles, **kwargs)):
        parts[name].append(article)
    return parts
