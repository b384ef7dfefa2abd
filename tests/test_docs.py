"""Every relative link in the README and the docs resolves: the file exists, and an
``#anchor`` names a heading of the page it points to (GitHub's heading ids)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS_INDEX = ROOT / "benchmarks" / "results" / "README.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), RESULTS_INDEX]

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:...


def _prose_lines(text: str):
    """``(number, line)`` of the lines outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's id of a heading: its text without markup, lower case, punctuation dropped
    (letters, digits, ``-`` and ``_`` stay), spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = []
    for ch in text:
        if ch in " -_" or unicodedata.category(ch)[0] in "LN":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading id of ``page``; a repeated heading gets ``-1``, ``-2``... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path):
    """``(line number, target)`` of every relative link of ``page`` (outside code)."""
    for number, line in _prose_lines(page.read_text(encoding="utf-8")):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            target = match.group(1)
            if not _EXTERNAL.match(target):
                yield number, target


def broken(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of ``page``, one line per bad link."""
    problems = []
    for number, target in links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{where} (outside the repository)")
        elif not resolved.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where} (no heading with this anchor)")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert broken(page) == []


def test_pages_exist():
    assert all(p.exists() for p in PAGES)
    assert {"index.md", "benchmark-json.md"} <= {p.name for p in PAGES}


def test_every_docs_page_is_reachable_from_the_index():
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / t.partition("#")[0]).resolve() for _, t in links(index)}
    pages = {p.resolve() for p in (ROOT / "docs").glob("*.md")} - {index.resolve()}
    assert pages - linked == set()


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Known limits", "known-limits"),
        ('K classes (`task` = `"multiclass"`)', "k-classes-task--multiclass"),
        ("Why flights_nyc keeps the baseline", "why-flights_nyc-keeps-the-baseline"),
        ("The gate's settings", "the-gates-settings"),
        ("Scoring-only install", "scoring-only-install"),
        ("See [Data](data.md) now", "see-data-now"),
    ],
)
def test_slug_follows_github(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_and_anchor_are_reported(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## A section\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [bad](other.md#nope) [web](https://x.y)\n"
        "```\n[in code](missing.md)\n```\n`[span](missing.md)`\n",
        encoding="utf-8",
    )
    found = broken(page, root=tmp_path)
    assert len(found) == 2
    assert "missing.md (no such file)" in found[0]
    assert "other.md#nope (no heading with this anchor)" in found[1]
