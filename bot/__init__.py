"""Paperboy's core: arXiv source, topic matching, summaries and digests.

It knows no chat platform: frontends in `handlers/` render its objects.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paperboy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
