"""Domain exceptions.

`UserError` and its subclasses are the expected mistakes of a person (a malformed query, an id
that does not exist). Every frontend turns them into a friendly reply using `str(exc)`; anything
else is a bug or an outage and is logged.
"""

from __future__ import annotations


class PaperboyError(Exception):
    """Base class of every error Paperboy raises on purpose."""


class UserError(PaperboyError):
    """A mistake in what a person typed; the message is written for them."""


class InvalidArxivId(UserError):
    """The text is not an arXiv identifier in any form we accept."""


class PaperNotFound(UserError):
    """The identifier is well formed but arXiv has no such paper."""


class InvalidLanguage(UserError):
    """Not a language code we can ask a model to write in."""


class ConfigError(PaperboyError):
    """A setting is missing or invalid; the message names the variable."""


class SourceUnavailable(PaperboyError):
    """arXiv could not be reached or kept failing after retries."""


class ArxivUnreachable(SourceUnavailable):
    """No answer at all from arXiv (network down, DNS, timeouts): other requests would fail too."""


class InvalidQuery(UserError):
    """A topic query that does not parse. `position` is a 0-based character offset, or None."""

    def __init__(self, problem: str, query: str, position: int | None = None) -> None:
        self.problem = problem
        self.query = query
        self.position = position
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"Invalid topic query: {self.problem}"]
        if self.position is not None and len(self.query) <= 200:
            lines.append(f"  {self.query}")
            lines.append("  " + " " * self.position + "^")
        elif self.position is not None:
            lines.append(f"  (at character {self.position + 1})")
        lines.append('Example: ("talking head" OR "lip sync") -survey cat:cs.CV')
        return "\n".join(lines)
