"""Paperboy's core: arXiv source, topic matching, summaries and digests, free of any chat platform."""
