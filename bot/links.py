"""Links for a paper, built only from metadata and the authors' own text (never from an LLM).

`paper_links` returns, in this order:

1. the abstract page, unversioned (``https://arxiv.org/abs/<id>``): it always shows the latest
   version and the version history;
2. the PDF of exactly this version (``https://arxiv.org/pdf/<id>v<n>``), the version the summary
   describes;
3. the HTML rendering of this version, for new-style ids from ``2312`` on: arXiv renders most
   papers submitted since December 2023 as HTML (a few conversions fail; their page says so).
   Old-style ids (``hep-th/9901001``) and earlier new-style ids get none;
4. the DOI (``https://doi.org/<doi>``), one link per DOI in the metadata;
5. up to `MAX_TEXT_LINKS` links found in the abstract and comments, grouped code, project,
   data, model, demo, each group in order of appearance: GitHub/GitLab/Bitbucket/Codeberg
   repositories (the path the authors gave, trailing punctuation stripped), ``*.github.io``
   project pages, Hugging Face datasets/spaces/models, a few data hosts, and any other http(s)
   URL: a project page when the words before it say so, otherwise a link named by its host
   (the words before a link on an unknown host do not make it code or data).

Abstract text breaks links in predictable ways; we repair ``\\url{…}``, ``\\_``, ``https: //`` and
a space after a code host (``https://github.com/ foo/bar``). Fragments that cannot be a link
(``https://github.`` from ``https://github. com/…``, a bare host root) and links to arXiv itself
are ignored. Duplicates (``http`` versus ``https``, ``www.``, a trailing ``/`` or ``.git``,
case of GitHub owners) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from bot.models import Link, LinkKind, Paper

MAX_TEXT_LINKS = 8
HTML_FIRST_YYMM = 2312

_NEW_ID_RE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_CODE_HOSTS: dict[str, str] = {
    "github.com": "GitHub",
    "gitlab.com": "GitLab",
    "bitbucket.org": "Bitbucket",
    "codeberg.org": "Codeberg",
}
_HF_HOSTS = frozenset({"huggingface.co", "hf.co"})
_KIND_ORDER = (
    LinkKind.CODE, LinkKind.PROJECT, LinkKind.DATA, LinkKind.MODEL, LinkKind.DEMO, LinkKind.OTHER,
)  # fmt: skip

_URL_BODY = r"[^\s<>\"'{}|\\^`\[\]]"
_URL_RE = re.compile(
    rf"(?:https?://|www\.){_URL_BODY}+"
    r"|(?<![\w@./-])(?:(?:github|gitlab)\.com|huggingface\.co|hf\.co|bitbucket\.org|codeberg\.org"
    rf"|[\w-]+\.github\.io)(?:/{_URL_BODY}*)?",
    re.IGNORECASE,
)
_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_CODE_ROOT_SPACE_RE = re.compile(
    r"((?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org"
    r"|codeberg\.org)/)\s+(?=[\w.-]+/[\w.-])",
    re.IGNORECASE,
)
# Words that make a page on an unknown host the paper's project page. Other words ("code is
# at", "data:") are not trusted for unknown hosts: a link is labelled by what it is, and only
# code hosts are code, only data and model hubs are data and models.
_PROJECT_CUE = re.compile(
    r"project (?:page|website|site|homepage)|home ?page|web ?page|website", re.I
)
_OTHER_CUES = re.compile(
    r"\b(?:code|implementation|source|software|repository|repo|data ?sets?|data|benchmark"
    r"|corpus|demo|video|playground)\b",
    re.I,
)
_OTHER_HOSTS: dict[str, tuple[LinkKind, str]] = {
    "zenodo.org": (LinkKind.DATA, "Data (Zenodo)"),
    "figshare.com": (LinkKind.DATA, "Data (figshare)"),
    "drive.google.com": (LinkKind.DATA, "Files (Google Drive)"),
    "colab.research.google.com": (LinkKind.DEMO, "Notebook (Colab)"),
    "youtube.com": (LinkKind.DEMO, "Video (YouTube)"),
    "youtu.be": (LinkKind.DEMO, "Video (YouTube)"),
    "pypi.org": (LinkKind.CODE, "Package (PyPI)"),
}


@dataclass(frozen=True, slots=True)
class FoundLink:
    """A link found in free text, with what makes it a duplicate and where it was."""

    link: Link
    key: str  # for deduplication
    position: int


def has_html_version(arxiv_id: str) -> bool:
    """Whether arXiv is expected to have an HTML rendering (see the module docstring)."""
    m = _NEW_ID_RE.match(arxiv_id)
    return m is not None and int(m.group(1) + m.group(2)) >= HTML_FIRST_YYMM


def paper_links(paper: Paper) -> list[Link]:
    """All links for `paper`, deduplicated, in a stable order."""
    links = [
        Link(LinkKind.ABSTRACT, f"https://arxiv.org/abs/{paper.id}", "arXiv abstract"),
        Link(LinkKind.PDF, f"https://arxiv.org/pdf/{paper.versioned_id}", "PDF"),
    ]
    if has_html_version(paper.id):
        links.append(Link(LinkKind.HTML, f"https://arxiv.org/html/{paper.versioned_id}", "HTML"))
    seen: set[str] = set()
    for doi in _dois(paper.doi or ""):
        if doi.lower() not in seen:
            seen.add(doi.lower())
            links.append(_doi_link(doi))
    found: list[FoundLink] = []
    text = "\n".join(t for t in (paper.abstract, paper.comment or "") if t)
    for item in text_links(text):
        if item.key not in seen:
            seen.add(item.key)
            found.append(item)
    found.sort(key=lambda f: (_KIND_ORDER.index(f.link.kind) if f.link.kind in _KIND_ORDER else 9,
                              f.position))  # fmt: skip
    doi_links = [f.link for f in found if f.link.kind is LinkKind.DOI]
    other = [f.link for f in found if f.link.kind is not LinkKind.DOI][:MAX_TEXT_LINKS]
    return links + doi_links + other


def _dois(raw: str) -> list[str]:
    dois = []
    for part in re.split(r"[\s,;]+", raw.strip()):
        doi = re.sub(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", "", part, flags=re.IGNORECASE)
        if re.match(r"^10\.\d{4,9}/\S+$", doi):
            dois.append(doi)
    return dois


def _doi_link(doi: str) -> Link:
    return Link(LinkKind.DOI, f"https://doi.org/{quote(doi, safe='/:;()._-')}", "DOI")


def repair_text(text: str) -> str:
    """Undo the usual ways LaTeX and line-wrapping break links in abstracts."""
    text = re.sub(r"\\(?:url|href)\{([^}]*)\}(?:\{[^}]*\})?", r" \1 ", text)
    text = text.replace("\\_", "_").replace("\\%", "%").replace("\\~{}", "~").replace("\\~", "~")
    text = re.sub(r"\b(https?):\s*/\s*/\s*", r"\1://", text, flags=re.IGNORECASE)
    return _CODE_ROOT_SPACE_RE.sub(r"\1", text)


def _strip_trailing(url: str) -> str:
    while url:
        last = url[-1]
        if last in ".,;:!?'\"”’*>" or (last in ")]}" and _unbalanced(url, last)):
            url = url[:-1]
        else:
            break
    return url


def _unbalanced(url: str, closing: str) -> bool:
    opening = {")": "(", "]": "[", "}": "{"}[closing]
    return url.count(closing) > url.count(opening)


def text_links(text: str) -> list[FoundLink]:
    """Links in free text (abstract, comments), classified; arXiv and broken ones dropped."""
    text = repair_text(text)
    found: list[FoundLink] = []
    previous_end = 0
    for m in _URL_RE.finditer(text):
        raw = _strip_trailing(m.group(0))
        # The words just before a link (not reaching back into the previous one) name it.
        before = text[max(previous_end, m.start() - 60) : m.start()]
        previous_end = m.end()
        item = _classify(raw, before, m.start())
        if item is not None:
            found.append(item)
    return found


def _classify(raw: str, before: str, position: int) -> FoundLink | None:
    url = raw if re.match(r"^https?://", raw, re.IGNORECASE) else "https://" + raw
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not _HOST_RE.match(host):
        return None  # "https://github." and other fragments
    bare_host = host.removeprefix("www.")
    if bare_host == "arxiv.org" or bare_host.endswith(".arxiv.org"):
        return None
    path = parts.path.rstrip("/")
    segments = [s for s in path.split("/") if s]
    key_path = path + (f"?{parts.query}" if parts.query else "")
    if bare_host in ("doi.org", "dx.doi.org"):
        doi = path.lstrip("/")
        return FoundLink(_doi_link(doi), doi.lower(), position) if doi.startswith("10.") else None
    if bare_host in _CODE_HOSTS:
        if not segments:
            return None
        clean = f"https://{bare_host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        key = f"{bare_host}{key_path.lower().removesuffix('.git')}"
        label = f"Code ({_CODE_HOSTS[bare_host]})"
        return FoundLink(Link(LinkKind.CODE, clean, label), key, position)
    if bare_host in _HF_HOSTS:
        return _huggingface(segments, parts.path, position)
    if bare_host.endswith(".github.io"):
        link = Link(LinkKind.PROJECT, f"https://{host}{parts.path}", "Project page")
        return FoundLink(link, f"{bare_host}{key_path}", position)
    key = f"{bare_host}{key_path}"
    if bare_host in _OTHER_HOSTS:
        kind, label = _OTHER_HOSTS[bare_host]
        return FoundLink(Link(kind, url, label), key, position)
    kind, label = _from_context(before, bare_host)
    return FoundLink(Link(kind, url, label), key, position)


def _huggingface(segments: list[str], path: str, position: int) -> FoundLink | None:
    if not segments or segments[0] in {"papers", "docs", "blog", "login", "join"}:
        return None  # the root, documentation, or Hugging Face's mirror of arXiv
    url = f"https://huggingface.co{path}"
    key = "huggingface.co/" + "/".join(segments).lower()
    if segments[0] == "datasets" and len(segments) >= 2:
        return FoundLink(Link(LinkKind.DATA, url, "Dataset (Hugging Face)"), key, position)
    if segments[0] == "spaces" and len(segments) >= 2:
        return FoundLink(Link(LinkKind.DEMO, url, "Demo (Hugging Face)"), key, position)
    if segments[0] in {"datasets", "spaces", "models"}:
        return None  # listing pages, not a resource
    return FoundLink(Link(LinkKind.MODEL, url, "Model (Hugging Face)"), key, position)


def _from_context(before: str, host: str) -> tuple[LinkKind, str]:
    """A page on a host we do not know: the project page when the words just before it say so
    (and no other cue comes nearer, as in "Project page: … Code: …"), otherwise a plain link
    named by its host."""
    project = [m.end() for m in _PROJECT_CUE.finditer(before)]
    other = [m.end() for m in _OTHER_CUES.finditer(before)]
    if project and (not other or project[-1] >= other[-1]):
        return LinkKind.PROJECT, "Project page"
    return LinkKind.OTHER, f"Link ({host})"
