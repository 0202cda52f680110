"""Small server-rendered SVG charts for the console: no JavaScript, no CDN."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

COLORS = {"served": "#2f7d4f", "quarantined": "#c98a0b", "blocked": "#b3261e"}


def line_chart(
    labels: Sequence[str], series: dict[str, Sequence[int]], *, width: int = 760, height: int = 220
) -> Markup:
    """One polyline per series over shared x ``labels`` (hours), with a y axis."""
    left, bottom, top, right = 44, 24, 12, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1, *(v for values in series.values() for v in values)])
    n = max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: int) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="served, quarantined and blocked per hour" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>',
    ]
    for frac in (0, 0.5, 1):
        value = round(peak * frac)
        parts.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value}</text>'
        )
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" class="grid"/>'
        )
    step = max(1, len(labels) // 6)
    for i in range(0, len(labels), step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 6}" class="tick" text-anchor="middle">{escape(labels[i])}</text>'
        )
    for name, values in series.items():
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        color = COLORS.get(name, "#555")
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: Sequence[tuple[str, int]], *, width: int = 760, bar: int = 22) -> Markup:
    """Horizontal bars, largest first, labelled with name and count."""
    if not items:
        return Markup('<p class="muted">Nothing is held right now.</p>')
    label_w, height = 220, bar * len(items) + 8
    peak = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="most asked-for held projects" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, value) in enumerate(items):
        y = 4 + i * bar
        w = (width - label_w - 60) * value / peak
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" class="label">{escape(name)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar - 6}" fill="{COLORS["quarantined"]}"/>'
        )
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar * 0.7:.1f}" class="tick">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
