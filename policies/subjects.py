"""What policies judge: a project (by name, with what upstream says of it) and a file.

``origin`` says where the project comes from: ``public`` (the public index, PyPI
or a mirror of it), ``private`` (an upstream the operator marked private: another
devpi, Artifactory ...) or ``hosted`` (uploaded to pipgate itself). Subjects judged
before any source is asked carry the origin they would be fetched from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from packaging.utils import NormalizedName
from packaging.version import Version

#: Where a project is served from (see the module docstring).
Origin = Literal["public", "private", "hosted"]


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the upstream page says about a project, used to judge it.

    Every field may be unknown (``None``): an index page without upload times
    gives no first-release date.
    """

    first_upload: datetime | None
    release_count: int | None
    file_count: int | None = None


class ProjectSubject(NamedTuple):
    """A project to judge. ``facts`` is ``None`` when upstream was not consulted. (A
    named tuple, as ``FileSubject``: one is made for every page request.)"""

    name: NormalizedName
    index: str = "default"
    facts: ProjectFacts | None = None
    origin: Origin = "public"


class FileSubject(NamedTuple):
    """One distribution file of a project.

    ``version`` is ``None`` when the filename could not be parsed; policies
    that need a version must treat that as unknown, never as safe. (A named tuple:
    as immutable as a frozen dataclass, and made three times as fast, which counts
    when a page of 10,000 files is judged.)
    """

    project: NormalizedName
    filename: str
    version: Version | None
    upload_time: datetime | None
    sha256: str | None = None
    index: str = "default"
    origin: Origin = "public"
