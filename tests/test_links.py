"""Links built from metadata, abstracts and comments (never from model output)."""

from __future__ import annotations

import pytest

from bot.links import has_html_version, paper_links, text_links
from bot.models import Link, LinkKind, Paper


def make(
    abstract: str = "We study things.",
    comment: str | None = None,
    *,
    arxiv_id: str = "2409.03605",
    version: int = 2,
    doi: str | None = None,
) -> Paper:
    return Paper(
        id=arxiv_id, version=version, title="T", abstract=abstract, comment=comment, doi=doi
    )


def extra(paper: Paper) -> list[Link]:
    """The links beyond abstract/PDF/HTML."""
    return [
        link
        for link in paper_links(paper)
        if link.kind not in {LinkKind.ABSTRACT, LinkKind.PDF, LinkKind.HTML}
    ]


def test_arxiv_links_for_a_new_style_id() -> None:
    links = paper_links(make())
    assert links == [
        Link(LinkKind.ABSTRACT, "https://arxiv.org/abs/2409.03605", "arXiv abstract"),
        Link(LinkKind.PDF, "https://arxiv.org/pdf/2409.03605v2", "PDF"),
        Link(LinkKind.HTML, "https://arxiv.org/html/2409.03605v2", "HTML"),
    ]


def test_old_style_ids_and_pre_2312_ids_have_no_html() -> None:
    old = paper_links(make(arxiv_id="hep-th/9901001", version=1))
    assert [link.url for link in old] == [
        "https://arxiv.org/abs/hep-th/9901001",
        "https://arxiv.org/pdf/hep-th/9901001v1",
    ]
    assert not has_html_version("2311.12345")
    assert has_html_version("2312.00001")
    assert has_html_version("2501.01234")
    assert not has_html_version("0704.0001")
    assert not has_html_version("math.GT/0309136")


def test_doi_link() -> None:
    links = extra(make(doi="10.1007/JHEP03(2024)112"))
    assert links == [Link(LinkKind.DOI, "https://doi.org/10.1007/JHEP03(2024)112", "DOI")]


def test_several_dois_and_doi_prefixes() -> None:
    links = extra(make(doi="doi:10.1103/PhysRevD.99.1 https://doi.org/10.1145/3580305.3599999"))
    assert [link.url for link in links] == [
        "https://doi.org/10.1103/PhysRevD.99.1",
        "https://doi.org/10.1145/3580305.3599999",
    ]


def test_code_and_project_page_from_comments() -> None:
    paper = make(
        comment=(
            "Accepted to CVPR 2025. Project page: https://foo.github.io/bar/. "
            "Code: https://github.com/foo/bar."
        )
    )
    assert extra(paper) == [
        Link(LinkKind.CODE, "https://github.com/foo/bar", "Code (GitHub)"),
        Link(LinkKind.PROJECT, "https://foo.github.io/bar/", "Project page"),
    ]


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Code is at https://github.com/foo/bar.", "https://github.com/foo/bar"),
        ("(code: https://github.com/foo/bar)", "https://github.com/foo/bar"),
        ("https://github.com/foo/bar, and more", "https://github.com/foo/bar"),
        ("see https://github.com/foo/bar; also", "https://github.com/foo/bar"),
        ("at https://github.com/ foo/bar.", "https://github.com/foo/bar"),
        ("at https: //github.com/foo/bar.", "https://github.com/foo/bar"),
        ("at \\url{https://github.com/foo/bar\\_baz}.", "https://github.com/foo/bar_baz"),
        ("at github.com/foo/bar.", "https://github.com/foo/bar"),
        ("at http://github.com/foo/bar/tree/main/src.", "https://github.com/foo/bar/tree/main/src"),
        ("at https://gitlab.com/group/sub/project.", "https://gitlab.com/group/sub/project"),
    ],
)
def test_repository_links_are_cleaned(text: str, url: str) -> None:
    links = extra(make(abstract=text))
    assert [link.url for link in links] == [url]
    assert links[0].kind is LinkKind.CODE


def test_gitlab_label() -> None:
    (link,) = extra(make(comment="Code: https://gitlab.com/group/project"))
    assert link.label == "Code (GitLab)"


def test_hugging_face_links_are_classified() -> None:
    paper = make(
        abstract=(
            "The dataset is at https://huggingface.co/datasets/x/y and a demo at "
            "https://huggingface.co/spaces/x/demo."
        ),
        comment="Weights: https://huggingface.co/x/model-7b. Paper: https://huggingface.co/papers/2409.03605",
    )
    assert extra(paper) == [
        Link(LinkKind.DATA, "https://huggingface.co/datasets/x/y", "Dataset (Hugging Face)"),
        Link(LinkKind.MODEL, "https://huggingface.co/x/model-7b", "Model (Hugging Face)"),
        Link(LinkKind.DEMO, "https://huggingface.co/spaces/x/demo", "Demo (Hugging Face)"),
    ]


def test_other_urls_are_labelled_from_their_context() -> None:
    paper = make(
        abstract="Our website https://example.org/proj has videos.",
        comment=(
            "Data: https://data.example.edu/corpus.zip. Demo video: https://youtu.be/abc123. "
            "See also https://blog.example.com/post."
        ),
    )
    links = extra(paper)
    assert links == [
        Link(LinkKind.PROJECT, "https://example.org/proj", "Project page"),
        Link(LinkKind.DEMO, "https://youtu.be/abc123", "Video (YouTube)"),
        Link(LinkKind.OTHER, "https://data.example.edu/corpus.zip", "Link (data.example.edu)"),
        Link(LinkKind.OTHER, "https://blog.example.com/post", "Link (blog.example.com)"),
    ]


@pytest.mark.parametrize(
    "abstract",
    [
        'Code and models: <a href="https://mylab.example.org/tools">here</a>.',
        "Our implementation is at https://mylab.example.org/tools.",
        "Source code and data: https://mylab.example.org/tools",
    ],
)
def test_a_page_is_never_called_code_for_the_words_before_it(abstract: str) -> None:
    [link] = extra(make(abstract=abstract))
    assert (link.kind, link.label) == (LinkKind.OTHER, "Link (mylab.example.org)")
    assert link.url == "https://mylab.example.org/tools"


def test_duplicates_are_dropped() -> None:
    paper = make(
        abstract="Code: https://github.com/Foo/Bar.",
        comment="Code at http://www.github.com/foo/bar/ and https://github.com/foo/bar.git",
    )
    assert [link.url for link in extra(paper)] == ["https://github.com/Foo/Bar"]


def test_doi_in_comments_merges_with_metadata_doi() -> None:
    paper = make(comment="Published at https://doi.org/10.1000/XYZ123.", doi="10.1000/xyz123")
    assert [link.url for link in extra(paper)] == ["https://doi.org/10.1000/xyz123"]


@pytest.mark.parametrize(
    "text",
    [
        "Code at https://github. com/foo/bar.",  # broken by a space: ignored
        "See https://arxiv.org/abs/2401.00001 and arXiv.org for details.",  # arXiv itself
        "Our repository is https://github.com/ soon.",  # only the host root
        "Visit https:// for more.",
        "Data on https://huggingface.co/datasets.",  # a listing, not a dataset
        "We use the 3.5% subset, e.g. for Fig. 2.",
    ],
)
def test_broken_fragments_and_self_links_are_ignored(text: str) -> None:
    assert extra(make(abstract=text)) == []


def test_order_is_stable_and_code_comes_first() -> None:
    paper = make(
        abstract="Demo: https://huggingface.co/spaces/a/b. Project page: https://a.github.io/b",
        comment="Code: https://github.com/a/b",
    )
    assert [link.kind for link in extra(paper)] == [
        LinkKind.CODE,
        LinkKind.PROJECT,
        LinkKind.DEMO,
    ]
    assert paper_links(paper) == paper_links(paper)


def test_text_links_reports_positions() -> None:
    found = text_links("a https://github.com/a/b then https://github.com/c/d")
    assert [f.position for f in found] == [2, 30]
