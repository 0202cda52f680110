"""'How to use this index': installer snippets with each index's URL filled in."""

from __future__ import annotations

from starlette.testclient import TestClient

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import load_settings
from pipgate.proxy.snippets import snippets


def _texts(found):
    return {(s.tool, s.where): s.text for s in found}


def test_snippets_name_the_index_url_for_every_tool():
    found = snippets("http://pipgate.corp:8080/", "ci", needs_token=False, hosted=False)
    text = "".join(s.text for s in found)
    url = "http://pipgate.corp:8080/ci/simple/"
    assert f"index-url = {url}\n" in text
    assert f'url = "{url}"' in text
    assert f"poetry source add --priority=primary pipgate {url}\n" in text
    assert f"pdm config pypi.url {url}\n" in text
    assert "pipgate warm --url http://pipgate.corp:8080 --index ci -r requirements.txt" in text
    assert "upload" not in text  # not a hosted index


def test_snippets_with_a_token_and_uploads():
    found = snippets("https://pypi.corp/", "default", needs_token=True, hosted=True)
    text = "".join(s.text for s in found)
    assert "index-url = https://__token__:<token>@pypi.corp/simple/" in text
    assert "poetry config http-basic.pipgate __token__ <token>" in text
    assert "twine upload --repository-url https://pypi.corp/ dist/*" in text
    assert "uv publish --publish-url https://pypi.corp/ --token <token> dist/*" in text


def test_console_page_shows_each_index(tmp_path):
    settings = load_settings(
        None,
        environ={},
        overrides={
            "cache": {"data_dir": str(tmp_path)},
            "upstream": {"url": "http://127.0.0.1:9/simple/"},
            "indexes": {"strict": {"policies": {"release_age": {"min_age": "14d"}}}},
        },
    )
    with TestClient(create_app(settings, corpus=["requests"])) as client:
        page = client.get("/-/ui/use")
    assert page.status_code == 200
    assert "pdm config pypi.url http://testserver/simple/" in page.text
    assert "pdm config pypi.url http://testserver/strict/simple/" in page.text
    assert "How to use this index" in page.text
