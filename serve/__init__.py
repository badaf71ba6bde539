"""Serving: the newsdesk command line (and, later, predict(), the demo and the batch script)."""
