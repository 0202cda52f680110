"""The S3 ``BlobStore`` (AWS S3, MinIO, SeaweedFS, Ceph RGW, GCS interop), with obstore.

Configuration is the standard AWS one: ``AWS_ENDPOINT_URL`` (absent: AWS itself),
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``; or
the static keys, region and ``endpoint_url`` of ``AWS_PROFILE`` in
``~/.aws/config``/``credentials`` (obstore reads no profile; pipgate does). An
``http://`` endpoint is allowed because it was named (obstore refuses it by default).

Fail fast: obstore retries connection errors for three minutes by default; here
at most twice within 3 s, with a 2 s connect timeout, so a store that is down is
reported (``StoreUnavailable``, 503) within seconds. A store must be created in
the process that uses it (obstore cannot be used after ``fork``): the app's
lifespan builds it, in each worker.
"""

from __future__ import annotations

import configparser
import hashlib
import os
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.storage.blobs import BlobMissing

#: Files above this go up in parts of this size, four at a time.
PART_SIZE = 16 << 20
#: Chunks read from a blob at a time.
READ_CHUNK = 256 * 1024


def _profile(environ: Mapping[str, str]) -> dict[str, str]:
    """``endpoint_url``, ``region`` and static keys of ``AWS_PROFILE``, where set."""
    name = environ.get("AWS_PROFILE")
    if not name:
        return {}
    found: dict[str, str] = {}
    home = Path(environ.get("HOME", "~")).expanduser()
    for path, section in (
        (environ.get("AWS_CONFIG_FILE", str(home / ".aws/config")), f"profile {name}"),
        (environ.get("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws/credentials")), name),
    ):
        parser = configparser.ConfigParser()
        parser.read(path)
        for candidate in (section, name):
            if parser.has_section(candidate):
                found.update(parser[candidate])
    return found


def store_options(url: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``S3Store`` arguments for ``s3://bucket/prefix`` and the AWS configuration."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    profile = _profile(environ)
    endpoint = environ.get("AWS_ENDPOINT_URL") or profile.get("endpoint_url")
    region = (
        environ.get("AWS_DEFAULT_REGION")
        or environ.get("AWS_REGION")
        or profile.get("region")
        or "us-east-1"
    )
    options: dict[str, Any] = {
        "bucket": parts.netloc,
        "prefix": parts.path.strip("/") or None,
        "region": region,
        "client_options": {
            "allow_http": bool(endpoint and endpoint.startswith("http://")),
            "connect_timeout": timedelta(seconds=2),
            "timeout": timedelta(seconds=60),
        },
        "retry_config": {"max_retries": 2, "retry_timeout": timedelta(seconds=3)},
    }
    if endpoint:
        options["endpoint"] = endpoint
        # A custom endpoint (MinIO, SeaweedFS) is addressed by path, not bucket.host.
        options["virtual_hosted_style_request"] = False
    if not environ.get("AWS_ACCESS_KEY_ID") and profile.get("aws_access_key_id"):
        options["access_key_id"] = profile["aws_access_key_id"]
        options["secret_access_key"] = profile.get("aws_secret_access_key", "")
        if profile.get("aws_session_token"):
            options["session_token"] = profile["aws_session_token"]
    return options


class S3Blobs:
    """Blobs in ``s3://bucket/prefix``; see the module docstring."""

    def __init__(self, url: str, *, environ: Mapping[str, str] | None = None) -> None:
        import obstore
        from obstore.store import S3Store

        self.label = url
        self._obs = obstore
        self._store = S3Store(**store_options(url, environ))

    def _unavailable(self, exc: Exception, what: str) -> StoreUnavailable:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return StoreUnavailable(f"object store {self.label} cannot {what} now: {first[:300]}")

    async def head(self, key: str) -> int | None:
        from obstore.exceptions import NotFoundError

        try:
            meta = await self._obs.head_async(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as exc:
            raise self._unavailable(exc, f"answer for {key}") from exc
        return int(meta["size"])

    async def stream(self, key: str, *, start: int = 0) -> tuple[int, AsyncIterator[bytes]]:
        from obstore.exceptions import NotFoundError

        options: dict[str, Any] = {"range": {"offset": start}} if start else {}
        try:
            result = await self._obs.get_async(self._store, key, options=options)  # type: ignore[arg-type]
        except (NotFoundError, FileNotFoundError):
            raise BlobMissing(f"no blob {key} in {self.label}") from None
        except Exception as exc:
            raise self._unavailable(exc, f"read {key}") from exc
        size = int(result.meta["size"])

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                    yield bytes(chunk)
            except Exception as exc:
                raise self._unavailable(exc, f"read {key}") from exc

        return size, chunks()

    async def put_file(self, key: str, path: Path | BinaryIO, *, size: int) -> None:
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            await self._obs.put_async(
                self._store,
                key,
                path,
                mode="create",
                use_multipart=size > PART_SIZE,
                chunk_size=PART_SIZE,
                max_concurrency=4,
            )
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return  # the same bytes, stored by another replica first
        except Exception as exc:
            raise self._unavailable(exc, f"store {key}") from exc

    def put_path(self, key: str, path: Path | BinaryIO, *, size: int) -> None:
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            self._obs.put(
                self._store,
                key,
                path,
                mode="create",
                use_multipart=size > PART_SIZE,
                chunk_size=PART_SIZE,
                max_concurrency=4,
            )
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return
        except Exception as exc:
            raise self._unavailable(exc, f"store {key}") from exc

    def read_into(self, key: str, out: BinaryIO) -> int | None:
        from obstore.exceptions import NotFoundError

        try:
            result = self._obs.get(self._store, key)
            size = 0
            for chunk in result.stream(min_chunk_size=READ_CHUNK):
                out.write(chunk)
                size += len(chunk)
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as exc:
            raise self._unavailable(exc, f"read {key}") from exc
        return size

    def get_bytes(self, key: str) -> bytes | None:
        from obstore.exceptions import NotFoundError

        try:
            return bytes(self._obs.get(self._store, key).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as exc:
            raise self._unavailable(exc, f"read {key}") from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            self._obs.put(self._store, key, data, mode="create")
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return
        except Exception as exc:
            raise self._unavailable(exc, f"store {key}") from exc

    async def ping(self) -> None:
        await self.head("pipgate-ping")

    async def check(self) -> list[str]:
        """Read, write-once, read back and delete a probe object under the prefix."""
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        data = os.urandom(32)
        key = f"pipgate-check/{hashlib.sha256(data).hexdigest()}"
        try:
            await self.head("pipgate-check/missing")
            await self._obs.put_async(self._store, key, data, mode="create")
            try:
                await self._obs.put_async(self._store, key, data, mode="create")
                return [f"{self.label}: a second write of {key} was accepted (no If-None-Match)"]
            except (AlreadyExistsError, PreconditionError, FileExistsError):
                pass
            back = await self._obs.get_async(self._store, key)
            if bytes(await back.bytes_async()) != data:
                return [f"{self.label}: {key} read back different bytes"]
            await self._obs.delete_async(self._store, key)
        except Exception as exc:
            return [f"{self.label}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"]
        return []
