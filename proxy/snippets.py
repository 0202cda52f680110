"""Configuration snippets that point installers at one index: "How to use this index".

Pure text from the index's URL; the console renders them (``/-/ui/use``). Each
snippet is what the README tells, with the URL filled in: a person copies it as is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    tool: str
    where: str
    text: str


def index_url(base_url: str, index: str) -> str:
    """The simple index URL of ``index`` on the pipgate at ``base_url``."""
    base = base_url.rstrip("/")
    return f"{base}/simple/" if index == "default" else f"{base}/{index}/simple/"


def upload_url(base_url: str, index: str) -> str:
    """Where twine and uv publish upload to ``index`` (the legacy upload API)."""
    base = base_url.rstrip("/")
    return f"{base}/" if index == "default" else f"{base}/{index}/"


def _with_token(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://__token__:<token>@{rest}"


def snippets(base_url: str, index: str, *, needs_token: bool, hosted: bool) -> list[Snippet]:
    """Snippets for pip, uv, poetry and pdm (and, for a hosted index, twine and uv
    publish; and ``pipgate warm``) that use ``index`` at ``base_url``."""
    url = index_url(base_url, index)
    install = _with_token(url) if needs_token else url
    found = [
        Snippet(
            "pip",
            "pip.conf (or: pip config set global.index-url URL)",
            f"[global]\nindex-url = {install}\n",
        ),
        Snippet("pip", "one command or CI job", f"PIP_INDEX_URL={install} pip install requests\n"),
        Snippet(
            "uv",
            "uv.toml (or [[tool.uv.index]] in pyproject.toml)",
            f'[[index]]\nname = "pipgate"\nurl = "{install}"\ndefault = true\n',
        ),
        Snippet(
            "uv", "one command or CI job", f"UV_DEFAULT_INDEX={install} uv pip install requests\n"
        ),
        Snippet(
            "poetry", "in the project", f"poetry source add --priority=primary pipgate {url}\n"
        ),
        Snippet("pdm", "for every project", f"pdm config pypi.url {install}\n"),
    ]
    if needs_token:
        found.append(
            Snippet(
                "poetry",
                "the token",
                "poetry config http-basic.pipgate __token__ <token>\n",
            )
        )
    warm = f"pipgate warm --url {base_url.rstrip('/')}" + (
        "" if index == "default" else f" --index {index}"
    )
    found.append(
        Snippet("pipgate warm", "prefetch before CI asks", f"{warm} -r requirements.txt\n")
    )
    if hosted:
        target = upload_url(base_url, index)
        found += [
            Snippet(
                "twine",
                "upload (a token with the upload scope)",
                f"TWINE_USERNAME=__token__ TWINE_PASSWORD=<token> twine upload --repository-url {target} dist/*\n",
            ),
            Snippet("uv", "publish", f"uv publish --publish-url {target} --token <token> dist/*\n"),
        ]
    return found
