"""Server-rendered SVG charts for the portal (no script, no external asset)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape

from posdomain.money import format_minor

W, H, PAD = 720, 220, 36
TODAY, LAST_WEEK = "#0b3d91", "#6b6b6b"  # both AA against white


ENGLISH = {
    "today": "today",
    "last_week": "last week",
    "max": "max %(amount)s per hour",
    "net_today": "Net today %(amount)s",
    "last_week_net": ", same weekday last week %(amount)s",
}


def hourly_bars(
    series: dict[str, list[int]],
    exponent: int,
    title: str,
    words: Mapping[str, str] = ENGLISH,
    amount: Callable[[str], str] = str,
) -> str:
    """Bars of today's net per local hour, last week's as an outline beside them; `words`
    and `amount` write its texts and figures in the reader's language (portal: hub.i18n)."""

    def money(minor: int) -> str:
        return amount(format_minor(minor, exponent))

    today = series.get("today", [0] * 24)
    last = series.get("last_week")
    top = max([1, *today, *(last or [])])
    slot = (W - 2 * PAD) / 24
    bar = slot * (0.42 if last else 0.8)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="trend-title trend-desc" width="100%" style="max-width:{W}px">',
        f'<title id="trend-title">{escape(title)}</title>',
        f'<desc id="trend-desc">{escape(_describe(today, last, words, money))}</desc>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#1a1a1a"/>',
    ]
    for hour in range(24):
        x = PAD + hour * slot
        for n, (values, color, fill) in enumerate(
            [(today, TODAY, TODAY)] + ([(last, LAST_WEEK, "none")] if last else [])
        ):
            value = max(0, values[hour])
            h = (H - 2 * PAD) * value / top
            parts.append(
                f'<rect x="{x + 2 + n * bar:.1f}" y="{H - PAD - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{fill}" stroke="{color}"><title>{hour:02d}:00 '
                f"{escape(words['today'] if n == 0 else words['last_week'])} "
                f"{money(values[hour])}</title></rect>"
            )
        if hour % 3 == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{H - PAD + 14}" font-size="11" '
                f'text-anchor="middle" fill="#1a1a1a">{hour:02d}</text>'
            )
    parts.append(
        f'<text x="{PAD}" y="{PAD - 12}" font-size="12" fill="#1a1a1a">'
        f"{escape(words['max'] % {'amount': money(top)})}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _describe(
    today: list[int],
    last: list[int] | None,
    words: Mapping[str, str],
    money: Callable[[int], str],
) -> str:
    text = words["net_today"] % {"amount": money(sum(today))}
    if last is not None:
        text += words["last_week_net"] % {"amount": money(sum(last))}
    return text + "."
