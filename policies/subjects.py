"""What policies judge: a project (by name, with what upstream says of it) and a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from packaging.utils import NormalizedName
from packaging.version import Version


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the upstream page says about a project, used to judge it.

    Every field may be unknown (``None``): an index page without upload times
    gives no first-release date.
    """

    first_upload: datetime | None
    release_count: int | None
    file_count: int | None = None


@dataclass(frozen=True, slots=True)
class ProjectSubject:
    """A project to judge. ``facts`` is ``None`` when upstream was not consulted."""

    name: NormalizedName
    index: str = "default"
    facts: ProjectFacts | None = None


@dataclass(frozen=True, slots=True)
class FileSubject:
    """One distribution file of a project.

    ``version`` is ``None`` when the filename could not be parsed; policies
    that need a version must treat that as unknown, never as safe.
    """

    project: NormalizedName
    filename: str
    version: Version | None
    upload_time: datetime | None
    sha256: str | None = None
    index: str = "default"
