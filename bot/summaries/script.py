"""Is this text written in the language we asked for? Cheap script and stopword heuristics.

No language-identification model is involved on purpose: the question is narrow (did the model
answer in the requested language, or slip back into English / Chinese / Japanese?) and the
answers are short, so counting writing systems and a few function words is enough.

Counting units. Text is cut into runs of letters; a run in a script written without spaces
(Han, kana, Hangul, Thai) counts one unit per character, any other run one unit per word. So a
Chinese sentence with a few embedded Latin terms ("基于 Diffusion Transformer 的模型") stays
mostly Han, and a Russian sentence is not outweighed by its English model names.

Rules (see `language_problems`):

* Languages with their own script (zh, ja, ko, ru, uk, ar, he, hi, th, el, …): at least
  `MIN_SCRIPT_SHARE` of the units are in that script. Chinese must not contain kana (that is
  Japanese); Japanese must contain some kana (otherwise it is Chinese).
* English: at least 90 % of the units are Latin, and at least `MIN_ENGLISH_RATIO` of the Latin
  words (when there are 8 or more) are English function words (``the``, ``of``, ``on``, ``we`` …).
  Real English prose scores 0.25-0.5, terse technical English about 0.12, German, French or
  Polish technical prose under 0.05.
* Other Latin-script languages (de, fr, es, …): the text is mostly Latin and is *not English*: the
  English function-word ratio is below `MAX_ENGLISH_RATIO_ELSEWHERE`, or below the ratio of the
  target language's own function words when we have a list for it (de, fr, es, pt, it, nl).
* Any other code: only the "not English" rule applies.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from bot.summaries.languages import base_language, language_name

MIN_SCRIPT_SHARE = 0.5
MIN_LATIN_SHARE_FOR_ENGLISH = 0.9
MIN_ENGLISH_RATIO = 0.08
MAX_ENGLISH_RATIO_ELSEWHERE = 0.15
MIN_WORDS_FOR_STOPWORD_TEST = 8

# Scripts whose runs count one unit per character (no spaces between words).
_PER_CHAR_SCRIPTS = frozenset({"han", "kana", "hangul", "thai"})

# Unicode character-name prefixes → our script labels. Order matters (first match wins).
_NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("CJK UNIFIED IDEOGRAPH", "han"),
    ("CJK COMPATIBILITY IDEOGRAPH", "han"),
    ("HIRAGANA", "kana"),
    ("KATAKANA", "kana"),
    ("HANGUL", "hangul"),
    ("LATIN", "latin"),
    ("CYRILLIC", "cyrillic"),
    ("GREEK", "greek"),
    ("ARABIC", "arabic"),
    ("HEBREW", "hebrew"),
    ("DEVANAGARI", "devanagari"),
    ("BENGALI", "bengali"),
    ("THAI", "thai"),
    ("GEORGIAN", "georgian"),
    ("ARMENIAN", "armenian"),
    ("TAMIL", "tamil"),
)

# The script each language is written in, by base code. Latin-script languages are listed so the
# "mostly Latin" check applies to them; anything missing gets only the "not English" check.
EXPECTED_SCRIPT: dict[str, str] = {
    "zh": "han",
    "ja": "kana+han",
    "ko": "hangul",
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "kk", "mn", "ky", "tg"), "cyrillic"),
    **dict.fromkeys(("ar", "fa", "ur", "ps"), "arabic"),
    **dict.fromkeys(("he", "yi"), "hebrew"),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), "devanagari"),
    "bn": "bengali",
    "th": "thai",
    "el": "greek",
    "ka": "georgian",
    "hy": "armenian",
    "ta": "tamil",
    **dict.fromkeys(
        (
            "en", "de", "fr", "es", "pt", "it", "nl", "pl", "tr", "vi", "id", "ms", "sv", "da",
            "no", "nb", "nn", "fi", "cs", "sk", "ro", "hu", "ca", "hr", "sl", "et", "lv", "lt",
            "sw", "tl", "eu", "gl", "is", "ga", "af", "sq", "az", "uz",
        ),
        "latin",
    ),
}  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English function words that are rare in other Latin-script languages' technical prose. Words
# shared with big neighbours ("a", "in", "is", "an", "die", "on", "over", "was") are left out.
ENGLISH_STOPWORDS = _words(
    """the of and to that this these those with for from by we our are were be been its their
    which than has have had can into while both such between using based show shows across more
    not also it as at they them there where when how what whose via each other only most"""
)

# For the positive "is this English?" test the short shared words help: terse English takeaways
# ("Runs in real time on a single GPU") have few of the distinctive ones.
ENGLISH_COMMON_WORDS = ENGLISH_STOPWORDS | _words("a an in on is was or over")

_OTHER_STOPWORDS: dict[str, frozenset[str]] = {
    "de": _words(
        """der die das und wir ein eine einer einen für von mit zu auf den dem des ist sind wird
        werden nicht auch als im zur zum über durch bei sich dass oder wie unser unsere"""
    ),
    "fr": _words(
        """le la les et des du une un pour dans nous est sont avec sur par que qui ce cette ces
        au aux plus notre nos ou pas se son leur"""
    ),
    "es": _words(
        """el la los las y de del una un para en con por que se es son su sus nuestro nuestra
        al como más esta este estos lo"""
    ),
    "pt": _words(
        """o a os as e de do da dos das um uma para em com por que se é são seu sua nosso nossa
        ao na no nas nos mais como este esta"""
    ),
    "it": _words(
        """il lo la gli le e di del della dei delle un una per in con che si è sono suo sua
        nostro nostra al alla nel nella più come questo questa"""
    ),
    "nl": _words(
        """de het een en van voor met op in te dat die is zijn wordt worden niet ook als door bij
        onze ons deze dit"""
    ),
}

_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class ScriptProfile:
    """Units per script, and the Latin words (lowercased) for stopword tests."""

    units: Counter[str]
    latin_words: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.units.values())

    def share(self, *scripts: str) -> float:
        total = self.total
        return sum(self.units[s] for s in scripts) / total if total else 0.0


def char_script(ch: str) -> str:
    """The script label of one letter ("other" when we do not track it)."""
    name = unicodedata.name(ch, "")
    for prefix, label in _NAME_PREFIXES:
        if name.startswith(prefix):
            return label
    return "other"


def profile(text: str) -> ScriptProfile:
    """Count units per script (see the module docstring)."""
    units: Counter[str] = Counter()
    latin_words: list[str] = []
    for run in _LETTER_RUN_RE.findall(text):
        # A run may mix scripts ("GAN模型"): split it wherever the script changes.
        current = ""
        segment = ""
        for ch in run + "\0":
            script = char_script(ch) if ch != "\0" else ""
            if script != current and segment:
                if current in _PER_CHAR_SCRIPTS:
                    units[current] += len(segment)
                else:
                    units[current] += 1
                if current == "latin":
                    latin_words.append(segment.lower())
                segment = ""
            current = script
            segment += ch
    return ScriptProfile(units=units, latin_words=tuple(latin_words))


def stopword_ratio(words: tuple[str, ...], stopwords: frozenset[str]) -> float:
    return sum(w in stopwords for w in words) / len(words) if words else 0.0


def language_problems(text: str, language: str) -> list[str]:
    """Human-readable reasons why `text` does not look like `language` (empty = plausible)."""
    prof = profile(text)
    if prof.total == 0:
        return ["the answer contains no words"]
    base = base_language(language)
    name = language_name(language)
    expected = EXPECTED_SCRIPT.get(base)
    if base == "en":
        return _english_problems(prof)
    problems: list[str] = []
    if expected == "han":
        if prof.share("han") < MIN_SCRIPT_SHARE:
            problems.append(f"the answer is not written in {name} (too few Chinese characters)")
        elif prof.units["kana"] > max(2, 0.05 * prof.units["han"]):
            problems.append(f"the answer looks like Japanese, not {name}")
    elif expected == "kana+han":
        if prof.share("han", "kana") < MIN_SCRIPT_SHARE:
            problems.append(f"the answer is not written in {name} (too few Japanese characters)")
        elif prof.units["kana"] < 0.1 * (prof.units["han"] + prof.units["kana"]):
            problems.append(f"the answer looks like Chinese, not {name} (no kana)")
    elif expected is not None and expected != "latin":
        if prof.share(expected) < MIN_SCRIPT_SHARE:
            problems.append(f"the answer is not written in {name} (expected {expected} script)")
    elif expected == "latin" and prof.share("latin") < MIN_SCRIPT_SHARE:
        problems.append(f"the answer is not written in {name} (expected Latin script)")
    if not problems and _looks_english(prof, base):
        problems.append(f"the answer is in English, not {name}")
    return problems


def _english_problems(prof: ScriptProfile) -> list[str]:
    if prof.share("latin") < MIN_LATIN_SHARE_FOR_ENGLISH:
        return ["the answer is not written in English (non-Latin script)"]
    words = prof.latin_words
    if (
        len(words) >= MIN_WORDS_FOR_STOPWORD_TEST
        and stopword_ratio(words, ENGLISH_COMMON_WORDS) < MIN_ENGLISH_RATIO
    ):
        return ["the answer does not read as English"]
    return []


def _looks_english(prof: ScriptProfile, base: str) -> bool:
    words = prof.latin_words
    if len(words) < MIN_WORDS_FOR_STOPWORD_TEST:
        return False
    # Measured against all units so Latin terms inside Chinese or Russian text do not count.
    english = sum(w in ENGLISH_STOPWORDS for w in words) / prof.total
    own = _OTHER_STOPWORDS.get(base)
    if own is not None:
        own_ratio = sum(w in own for w in words) / prof.total
        return english >= MIN_ENGLISH_RATIO and english > own_ratio
    return english >= MAX_ENGLISH_RATIO_ELSEWHERE
