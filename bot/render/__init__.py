"""Renderers for the command line: plain text for the terminal, Markdown for a daily blog post.

Chat frontends have renderers of their own; what is shared lives in `common`.
"""
