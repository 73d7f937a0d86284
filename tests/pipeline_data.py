"""Realistic papers for end-to-end tests: talking-head papers and the distractors that loose
keyword search lets in, plus a clock that tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.models import Paper
from bot.source.calendar import submission_window
from tests.fakes.arxiv_data import make_paper

TOPIC = '"talking head" OR "talking face" OR "lip sync"'


@dataclass
class FakeClock:
    """A clock tests advance explicitly; code under test never sleeps on it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_listing_evening(self, listing: date) -> None:
        """Just after the feed for `listing` is built (01:00 US Eastern that day)."""
        self.now = datetime(listing.year, listing.month, listing.day, 6, 0, tzinfo=UTC)


def submitted_for(listing: date, minutes: int = 60) -> datetime:
    """A submission time that lands in `listing`."""
    start, _ = submission_window(listing)
    return start + timedelta(minutes=minutes)


def paper(
    number: int,
    title: str,
    abstract: str,
    *,
    listing: date,
    categories: tuple[str, ...] = ("cs.CV",),
    comment: str | None = None,
) -> Paper:
    return make_paper(
        number,
        title=title,
        abstract=abstract,
        categories=categories,
        comment=comment,
        published=submitted_for(listing, minutes=number),
    )


def talking_head_papers(listing: date, first: int = 1) -> list[Paper]:
    return [
        paper(
            first,
            "EmoTalk3D: Audio-Driven Emotional Talking-Head Synthesis with Gaussian Splatting",
            "We present EmoTalk3D, a method for audio-driven talking-head synthesis that "
            "renders emotional expressions. Our model achieves state-of-the-art lip "
            "synchronization on HDTF and MEAD.",
            listing=listing,
            comment="Project page: https://emotalk3d.github.io/ ; accepted to ECCV 2024",
        ),
        paper(
            first + 1,
            "Real-Time Talking Heads from a Single Portrait",
            "Generating talking heads from a single image remains hard. We propose a "
            "diffusion-based approach that produces realistic talking faces in real time. "
            "Code: https://github.com/example/rt-heads.",
            listing=listing,
            categories=("cs.GR", "cs.CV"),
        ),
        paper(
            first + 2,
            "LipFlow: Lip-Sync for Dubbed Video with Flow Matching",
            "Accurate lip sync is essential for dubbing. We introduce LipFlow, a flow "
            "matching model for lip-sync that outperforms Wav2Lip by 12% in LSE-C.",
            listing=listing,
        ),
    ]


def distractor_papers(listing: date, first: int = 100) -> list[Paper]:
    return [
        paper(
            first,
            "Serialized Output Training for Multi-Talker Speech Recognition",
            "Multi-talker automatic speech recognition (ASR) transcribes overlapping "
            "speech. We talk about head-mounted microphones and improve WER by 8%.",
            listing=listing,
            categories=("eess.AS", "cs.CL"),
        ),
        paper(
            first + 1,
            "CLIP Talks: Probing What Vision-Language Models Say About Faces",
            "We probe CLIP with captions of face images and show that the model talks "
            "about attributes it cannot see.",
            listing=listing,
        ),
        paper(
            first + 2,
            "Talking to the Game: LLM Agents That Negotiate in Diplomacy",
            "We build agents that talk to other players. The head of each agent is a "
            "planning module.",
            listing=listing,
            categories=("cs.AI",),
        ),
    ]
