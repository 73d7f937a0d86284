"""Paperboy's core: arXiv source, topic matching, summaries and digests, free of any chat platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paperboy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
