"""Data layer: the Article record, readers for JSONL/JSONL.gz/CSV, and duplicate-aware splits."""
from .articles import LABELS, SAMPLES, Article, BadRow, DataError, FieldMap, Row, iter_rows, read_articles
from .splits import SPLITS, assign_splits, duplicate_groups, split_articles

__all__ = ["LABELS", "SAMPLES", "SPLITS", "Article", "BadRow", "DataError", "FieldMap", "Row", "assign_splits",
           "duplicate_groups", "iter_rows", "read_articles", "split_articles"]
