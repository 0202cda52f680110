"""Static content scan of distribution files: archive walking, Python analysis, rules.

``scan_archive(path_or_fileobj, filename) -> ScanReport`` is the entry point; the report is
judged by ``pipgate.policies.scan.ScanPolicy``.
"""

from pipgate.policies.scan import Finding, ScanReport

from .engine import NOT_KEPT, OUT_OF_MEMORY, SCANNER_ERROR, scan_archive
from .limits import ScanLimits, Unscannable
from .rules import RULES, RULES_VERSION

__all__ = [
    "NOT_KEPT",
    "OUT_OF_MEMORY",
    "RULES",
    "RULES_VERSION",
    "SCANNER_ERROR",
    "Finding",
    "ScanLimits",
    "ScanReport",
    "Unscannable",
    "scan_archive",
]
