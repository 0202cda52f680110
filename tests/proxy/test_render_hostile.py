"""parse.py and render.py on hostile pages: nothing upstream says becomes markup in a served page.

Hostile text in every field that reaches HTML goes through ``parse`` (which keeps only
known hash names) and ``render_html`` (which escapes every value); the result holds
only the renderer's own tags and attributes, and each value reads back as upstream wrote it.
"""

from __future__ import annotations

import orjson
import pytest

from pipgate.proxy.index.parse import parse_html_page, parse_json_page
from pipgate.proxy.index.render import Page, render_html, render_index, shown_files
from pipgate.proxy.models import DistFile, Project
from tests.support.markup import markup_of

PAGE = "https://up.example/simple/demo/"
SHA = "a" * 64
EVIL = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
#: A filename cannot hold a "/" (the parser drops such entries), so no closing tags here.
EVIL_FILENAME = "demo-1.0\"'><img src=x onerror=alert(1)>&amp;.tar.gz"


def test_parse_keeps_only_known_hash_names_case_normalized() -> None:
    entry = {
        "filename": "demo-1.0.tar.gz",
        "url": "demo-1.0.tar.gz",
        "hashes": {"SHA256": SHA, "Md5": "b" * 32, EVIL: "c" * 64, "sha257": "d" * 64},
        "core-metadata": {EVIL: SHA, "sha256": "E" * 64},
    }
    (f,) = parse_json_page(orjson.dumps({"files": [entry]}), PAGE, "demo").files
    assert f.hashes == {"sha256": SHA, "md5": "b" * 32}
    assert f.core_metadata == {"sha256": "e" * 64}
    only_unknown = {**entry, "core-metadata": {"<b>": SHA}, "hashes": {"<b>": SHA}}
    (g,) = parse_json_page(orjson.dumps({"files": [only_unknown]}), PAGE, "demo").files
    assert (g.hashes, g.core_metadata) == ({}, True)  # metadata available, no usable hash

    html = f'<a href="demo-1.0.tar.gz#x%3Cb%3E={SHA}" data-core-metadata="&lt;b&gt;={SHA}">x</a>'
    (h,) = parse_html_page(html.encode(), PAGE, "demo").files
    assert (h.hashes, h.core_metadata) == ({}, True)


def test_a_hostile_json_page_renders_no_markup() -> None:
    entry = {
        "filename": EVIL_FILENAME,
        "url": "x",
        "hashes": {"sha256": SHA},
        "requires-python": EVIL,
        "yanked": EVIL,
        "core-metadata": {EVIL: SHA},
        "provenance": "p",
    }
    body = {
        "files": [entry],
        "project-status": {"status": EVIL, "reason": EVIL},
        "tracks": [EVIL],
        "alternate-locations": [EVIL],
    }
    project = parse_json_page(orjson.dumps(body), PAGE, "demo")
    served = markup_of(render_html(Page(project, shown_files(project, project.files))))
    assert served.only_page_markup, (served.tags, served.attributes)
    # status, reason, track, location, requires-python, yanked
    assert served.values.count(EVIL) == 6
    assert EVIL_FILENAME in served.text
    assert any(value.endswith(f".tar.gz#sha256={SHA}") for value in served.values)
    assert "true" in served.values  # core-metadata under an unknown hash name: no hash kept


@pytest.mark.parametrize("algo", [EVIL, 'sha256" onmouseover="alert(1)'])
def test_render_escapes_a_hash_name_even_if_one_slips_through(algo: str) -> None:
    f = DistFile("demo-1.0.tar.gz", "https://up/x", {"sha256": SHA}, core_metadata={algo: SHA})
    project = Project("demo", (f,))
    served = markup_of(render_html(Page(project, shown_files(project, project.files))))
    assert served.only_page_markup, (served.tags, served.attributes)
    assert f"{algo}={SHA}" in served.values


def test_root_index_escapes_names() -> None:
    served = markup_of(render_index([EVIL], "text/html"))
    assert served.only_page_markup, (served.tags, served.attributes)
    assert EVIL in served.text
