"""``POST /<index>/`` (``POST /`` for the default index): the legacy upload API.

What ``twine upload --repository-url http://pipgate/<index>/`` and ``uv publish
--publish-url ...`` speak: a multipart form with ``:action=file_upload``, the
file as ``content``, ``name``, ``version``, ``filetype`` and digests
(``sha256_digest``, ``md5_digest``, ``blake2_256_digest``). Only an index
configured ``hosted = true`` accepts uploads, only from a token (HTTP basic
password, as both clients send it, or bearer) of scope ``upload`` or ``admin``
named in its ``upload`` list. The file is received whole, hashed, checked
(``validate.py``) and kept with its upload record; a file name already taken is
refused with 409. Every refusal says why in the reason phrase (what twine
prints) and in the body (what uv prints).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from anyio import to_thread
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from pipgate.proxy.hosted.store import FileExists, HostedFile
from pipgate.proxy.hosted.validate import InvalidUpload, check_distribution
from pipgate.proxy.observe.disk import STORAGE_ERRORS
from pipgate.proxy.reason_phrase import Status
from pipgate.proxy.state import state_of

log = logging.getLogger("pipgate.hosted")

#: Form fields besides the file (a long README as ``description`` among them).
FORM_LIMITS: dict[str, Any] = {"max_files": 1, "max_fields": 128, "max_part_size": 8 << 20}
DIGESTS = {"sha256_digest": "sha256", "md5_digest": "md5", "blake2_256_digest": "blake2b"}


def _refuse(status: int, message: str, **headers: str) -> Response:
    return PlainTextResponse(
        f"pipgate: {message}\n", status_code=Status(status, message), headers=headers
    )


async def upload(request: Request) -> Response:
    from pipgate.proxy import views

    svc = state_of(request)
    settings = svc.settings
    index = request.path_params.get("index", "default")
    if index not in settings.index_names:
        return _refuse(404, f"no index is configured under /{index}/")
    own = settings.indexes.get(index)
    if own is None or not own.hosted or svc.hosted is None:
        return _refuse(405, f"index {index!r} does not accept uploads (it is not hosted)")
    principal = svc.tokens.from_headers(request)
    if principal is None:
        return _refuse(
            401,
            f"uploading to index {index!r} needs a token: username __token__, the token as "
            "password (twine), or uv publish --token",
            **{"WWW-Authenticate": 'Basic realm="pipgate"'},
        )
    if not principal.can("upload") or not ("*" in own.upload or principal.name in own.upload):
        return _refuse(403, f"token {principal.name!r} may not upload to index {index!r}")
    limit = own.max_upload_size
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_LIMITS["max_part_size"]:
        return _refuse(413, f"upload larger than max_upload_size ({limit} bytes) of {index!r}")
    try:
        form = await request.form(**FORM_LIMITS)
    except Exception as exc:  # multipart errors come in several kinds
        return _refuse(400, f"cannot read the upload form: {exc}")
    try:
        action = form.get(":action")
        if action != "file_upload":
            return _refuse(400, f"unsupported :action {action!r}: pipgate accepts file_upload")
        content = form.get("content")
        if not isinstance(content, UploadFile) or not content.filename:
            return _refuse(400, "no file in the form field 'content'")
        filename = Path(content.filename).name
        temp = await to_thread.run_sync(svc.hosted.new_temp_path)
        try:
            received = await to_thread.run_sync(_receive, content, temp, limit)
            if received is None:
                return _refuse(413, f"{filename!r} is larger than max_upload_size ({limit} bytes)")
            size, digests = received
            dist = await to_thread.run_sync(check_distribution, temp, filename)
            _check_form(form, filename, dist, digests)
            # Judged like any file: the content scan's report is there before it is served.
            await svc.scan.scan_path(digests["sha256"], filename, temp)
            metadata = dist.metadata if dist.kind == "bdist_wheel" else None
            record = HostedFile(
                index=index,
                project=dist.project,
                filename=filename,
                version=str(dist.version),
                sha256=digests["sha256"],
                size=size,
                requires_python=dist.requires_python,
                metadata_sha256=hashlib.sha256(metadata).hexdigest() if metadata else None,
                uploaded_at=svc.clock(),
                uploader=principal.name,
                client=views.client_of(request),
            )
            await to_thread.run_sync(svc.hosted.add, record, temp, metadata)
        finally:
            temp.unlink(missing_ok=True)
    except InvalidUpload as exc:
        return _refuse(400, str(exc))
    except FileExists as exc:
        return _refuse(409, str(exc))
    except STORAGE_ERRORS as exc:
        return _refuse(503, f"cannot store the upload: {exc}", **{"Retry-After": "60"})
    finally:
        await form.close()
    log.info(
        "hosted: %s uploaded to index %s by %s from %s",
        filename,
        index,
        record.uploader,
        record.client,
    )
    return PlainTextResponse(f"pipgate: {filename} uploaded to index {index!r}\n")


def _receive(content: UploadFile, temp: Path, limit: int) -> tuple[int, dict[str, str]] | None:
    """Copy the upload to ``temp``, hashing it; ``None`` if it exceeds ``limit`` bytes."""
    hashes = {
        "sha256": hashlib.sha256(),
        "md5": hashlib.md5(usedforsecurity=False),
        "blake2b": hashlib.blake2b(digest_size=32),
    }
    size = 0
    source = content.file
    source.seek(0)
    with temp.open("wb") as out:
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > limit:
                return None
            for h in hashes.values():
                h.update(chunk)
            out.write(chunk)
    return size, {name: h.hexdigest() for name, h in hashes.items()}


def _check_form(form: Any, filename: str, dist: Any, digests: dict[str, str]) -> None:
    """The form's fields must say what the file is; at least one digest must match it."""
    name = str(form.get("name") or "")
    if canonicalize_name(name) != dist.project:
        raise InvalidUpload(f"form field name {name!r} is not the project of {filename!r}")
    try:
        version = Version(str(form.get("version") or ""))
    except InvalidVersion:
        raise InvalidUpload(
            f"form field version {form.get('version')!r} is not a version"
        ) from None
    if version != dist.version:
        raise InvalidUpload(f"form field version {version} is not the version of {filename!r}")
    filetype = form.get("filetype")
    if filetype is not None and filetype != dist.kind:
        raise InvalidUpload(f"form field filetype {filetype!r}: {filename!r} is a {dist.kind}")
    given = {field: str(form.get(field)).lower() for field in DIGESTS if form.get(field)}
    if not given:
        raise InvalidUpload(f"no digest of {filename!r} in the form (sha256_digest)")
    for field, value in given.items():
        if value != digests[DIGESTS[field]]:
            raise InvalidUpload(
                f"{field} of {filename!r} does not match the bytes received "
                "(damaged in transit?): nothing was stored"
            )
