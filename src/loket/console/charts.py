"""Server-rendered SVG bar charts: no script, readable by screen readers (a title, a description,
and every bar labelled), styled by the console's stylesheet (no inline styles under the strict CSP)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, value_label: str = "{value}", width: int = 640) -> str:
    """A vertical bar chart of (label, value); `value_label` formats each value (e.g. "{value} min")."""
    height, top, bottom, left = 220, 20, 40, 36
    plot_h = height - top - bottom
    count = max(1, len(bars))
    slot = (width - left - 8) / count
    peak = max((value for _, value in bars), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-labelledby="c-title c-desc"'
        f' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="c-title">{escape(title)}</title>',
        '<desc id="c-desc">'
        + escape("; ".join(f"{label}: {value_label.format(value=_num(value))}" for label, value in bars))
        + "</desc>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="currentColor"/>',
        f'<text x="2" y="{top + 4}">{escape(_num(peak))}</text>',
    ]
    for index, (label, value) in enumerate(bars):
        bar_h = plot_h * (value / peak) if peak else 0
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        text = escape(value_label.format(value=_num(value)))
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}">'
            f"<title>{escape(label)}: {text}</title></rect>"
        )
        if count <= 16 or index % max(1, count // 8) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}">{escape(_short(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _short(label: str) -> str:
    return label[5:] if len(label) == 10 and label[4] == "-" else label[:12]
