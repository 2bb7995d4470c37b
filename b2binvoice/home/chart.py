"""A bar chart of the last months' invoiced amounts, as plain SVG geometry for a template (no script, no inline style)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 600
HEIGHT = 180
TOP = 10
BOTTOM = 24  # room for the month labels


@dataclass(frozen=True)
class Bar:
    month: dt.date
    amount: Decimal
    x: float
    y: float
    width: float
    height: float
    label_x: float
    current: bool


@dataclass(frozen=True)
class Chart:
    currency: str
    bars: tuple[Bar, ...]
    peak: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - BOTTOM
    label_y: int = HEIGHT - 6


def bar_chart(currency: str, months: list[dt.date], amounts: list[Decimal]) -> Chart:
    """Lay out one bar per month, scaled to the largest month (a negative month, all credit notes, draws none)."""
    peak = max([a for a in amounts if a > 0], default=Decimal(0))
    usable = HEIGHT - TOP - BOTTOM
    slot = WIDTH / len(months)
    width = slot * 0.66
    bars = []
    for i, (month, amount) in enumerate(zip(months, amounts, strict=True)):
        height = float(amount / peak) * usable if peak and amount > 0 else 0.0
        x = i * slot + (slot - width) / 2
        bars.append(Bar(month, amount, round(x, 1), round(HEIGHT - BOTTOM - height, 1), round(width, 1),
                        round(height, 1), round(x + width / 2, 1), i == len(months) - 1))
    return Chart(currency, tuple(bars), peak)
