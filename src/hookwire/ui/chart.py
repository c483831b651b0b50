"""Charts drawn on the server as inline SVG: no chart library, nothing to load, readable by tests."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

from hookwire.outbound.overview import Bucket


def traffic_chart(buckets: list[Bucket], bucket_ms: int, width: int = 960, height: int = 200) -> Markup:
    """Bars: deliveries per minute in each bucket. Line: success rate (0-100 %) where there was traffic."""
    per_minute = [b.attempts / (bucket_ms / 60000) for b in buckets]
    top = max(per_minute, default=0) or 1
    left, bottom, plot_h = 40, 20, height - 30
    step = (width - left) / max(len(buckets), 1)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Deliveries per minute and success rate, last 24 hours</title>',
        f'<desc id="chart-desc">Peak {top:.1f} deliveries per minute. Bars are deliveries per minute; '
        "the line is the success rate.</desc>",
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"/>',
        f'<text x="0" y="28">{top:.1f}/min</text><text x="0" y="{height - bottom}">0</text>',
    ]
    points = []
    for i, (bucket, rate) in enumerate(zip(buckets, per_minute, strict=True)):
        x = left + i * step
        h = plot_h * rate / top
        if h:
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{height - bottom - h:.1f}" width="{max(step - 1, 1):.1f}" '
                f'height="{h:.1f}"><title>{bucket.attempts} attempts</title></rect>'
            )
        if bucket.success_rate is not None:
            points.append(f"{x + step / 2:.1f},{height - bottom - plot_h * bucket.success_rate:.1f}")
    if len(points) > 1:
        parts.append(f'<polyline class="rate" points="{" ".join(points)}"/>')
    elif points:  # one slice with traffic: a dot, since a line needs two
        cx, cy = points[0].split(",")
        parts.append(f'<circle class="rate" cx="{cx}" cy="{cy}" r="3"/>')
    for i in range(0, len(buckets), max(len(buckets) // 4, 1)):
        label = datetime.fromtimestamp(buckets[i].start_ms / 1000, UTC).strftime("%H:%M UTC")
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 4}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(buckets: list[Bucket], width: int = 96, height: int = 22) -> Markup:
    """Hourly success rate as a small line; hours without traffic are left out."""
    step = width / max(len(buckets) - 1, 1)
    points = [
        f"{i * step:.1f},{height - 2 - (height - 4) * b.success_rate:.1f}"
        for i, b in enumerate(buckets)
        if b.success_rate is not None
    ]
    total = sum(b.attempts for b in buckets)
    ok = sum(b.succeeded for b in buckets)
    label = f"success rate over 24 h: {ok} of {total} attempts" if total else "no attempts in 24 h"
    line = f'<polyline points="{" ".join(points)}"/>' if len(points) > 1 else ""
    dot = ""
    if len(points) == 1:
        x, y = points[0].split(",")
        dot = f'<circle cx="{x}" cy="{y}" r="2" fill="currentColor"/>'
    elif not points:  # say so rather than show an empty box
        middle = f'x="{width / 2:.0f}" y="{height / 2 + 3:.0f}" text-anchor="middle"'
        dot = f'<text class="spark-empty" {middle}>no traffic</text>'
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><rect class="spark-bg" width="{width}" height="{height}" rx="3"/>'
        f"{line}{dot}</svg>"
    )
