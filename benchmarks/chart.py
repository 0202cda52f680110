"""Draw ``compare.json`` as a PNG bar chart: ``python chart.py compare.json compare.png``.

Runs in its own virtual environment (matplotlib is not a pipgate dependency), so it
imports nothing but the standard library and matplotlib.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: (figure key, panel title, higher is better)
PANELS = (
    ("small_rps", "Warm small page, requests/s (c=16)", True),
    ("huge_rps", "Warm 10,000-file page, requests/s (c=16)", True),
    ("huge_p50_ms", "Warm 10,000-file page, p50 ms", False),
    ("file_mb_s", "Warm 30 MB wheel, MB/s", True),
    ("pip_install_s", "pip install bench-app (24 projects), s", False),
    ("peak_rss_mb", "Peak memory (VmHWM), MB", False),
)
COLOURS = {
    "pipgate": "#2a7ab9",
    "pipgate-w2": "#1b4f7a",
    "proxpi": "#e08a2b",
    "devpi-server": "#6b9e3a",
    "nginx": "#999999",
}


def draw(data: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = data["systems"]
    figures = data["figures"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (key, title, higher) in zip(axes.flat, PANELS, strict=True):
        names = [s for s in systems if figures.get(s, {}).get(key) is not None]
        values = [figures[s][key] for s in names]
        bars = ax.bar(names, values, color=[COLOURS.get(s, "#555555") for s in names])
        ax.bar_label(bars, labels=[_short(v) for v in values], fontsize=8)
        ax.set_title(
            title + ("  (higher is better)" if higher else "  (lower is better)"), fontsize=9
        )
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(y=0.15)
        if key.endswith("_rps") and values and max(values) > 20 * max(min(values), 1e-9):
            ax.set_yscale("log")
    fig.suptitle(
        f"pipgate vs proxpi vs devpi-server, nginx as ceiling - {data['machine']}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _short(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
