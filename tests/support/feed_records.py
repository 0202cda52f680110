"""The advisories the intel tests' feed holds: ``evil-pkg`` is malware, demo-pkg before
1.1.0 is vulnerable."""

from __future__ import annotations

from tests.support.osv_records import record

MAL_ID = "MAL-2025-0001"
GHSA_ID = "GHSA-7f3x-demo-pkg0"
MALWARE = record(MAL_ID, "evil-pkg", summary="Malicious code in evil-pkg (PyPI)")
VULNERABILITY = record(
    GHSA_ID,
    "demo-pkg",
    ranges=[("0", "1.1.0")],
    aliases=["CVE-2025-0001"],
    cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    summary="demo-pkg runs code from the network",
)
