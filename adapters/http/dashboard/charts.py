"""Charts as plain geometry for server-rendered SVG, one bar or dot per data point.

The SVG is as wide as its card and a fixed number of pixels high, with no viewBox: across, positions are percentages
of the width; down, pixels. Nothing is scaled, so the labels are `FONT_PX` on a phone and on a wide screen alike (a
viewBox scaled the old 15-unit labels to 6-8 px in a 390 px wide card), and dots stay round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 100  # percent of the card
HEIGHT = 240  # pixels
LEFT, RIGHT = 1, 1  # percent: the y labels sit on their grid lines, inside the plot
TOP, BOTTOM = 24, 44  # pixels: room for the top y label above its line, and two rows of x labels below the axis
FONT_PX = 12
MOST_X_LABELS = 8
STAGGER_OVER = 4
"""More x labels than this take two rows, every other one lower, so that neighbours never overlap on a phone."""


@dataclass(frozen=True)
class Mark:
    """One data point: a bar (`width` > 0) or a dot at (x, y). `x` and `width` in percent, `y` and `height` in px."""

    x: float
    y: float
    width: float
    height: float
    series: int
    label: str
    value: float


@dataclass(frozen=True)
class Tick:
    """A label: `x` in percent, `y` in px (its baseline)."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    marks: list[Mark]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[str]
    width: int = WIDTH
    height: int = HEIGHT
    font_size: int = FONT_PX

    @property
    def has_data(self) -> bool:
        return any(mark.value for mark in self.marks)

    @property
    def baseline(self) -> float:
        return self.height - BOTTOM

    @property
    def plot_left(self) -> float:
        return LEFT

    @property
    def plot_right(self) -> float:
        return self.width - RIGHT


def bar_chart(categories: Sequence[str], series: Mapping[str, Sequence[float]], unit: str = "") -> Chart:
    """Grouped bars: for each category, one bar per series (in the mapping's order)."""
    top = _nice_max(max((v for values in series.values() for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar_w = slot * 0.8 / max(1, len(series))
    marks = []
    for i, category in enumerate(categories):
        for s, values in enumerate(series.values()):
            height = plot_h * values[i] / top
            x = LEFT + i * slot + slot * 0.1 + s * bar_w
            marks.append(Mark(x, TOP + plot_h - height, bar_w, height, s, category, values[i]))
    return Chart(marks, _x_ticks(categories, slot), _y_ticks(top, unit), list(series))


def dot_chart(labels: Sequence[str], values: Sequence[float]) -> Chart:
    """A dot per value, left to right (a time series)."""
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    marks = [
        Mark(LEFT + (i + 0.5) * slot, TOP + plot_h - plot_h * value / top, 0, 0, 0, label, value)
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    return Chart(marks, _x_ticks(labels, slot), _y_ticks(top, ""), [])


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least `value` (1 for an empty chart)."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value * 10:  # below 1: rates
        step /= 10
    return next(top for top in (step, 2 * step, 5 * step, 10 * step) if top >= value)


def _x_ticks(labels: Sequence[str], slot: float) -> list[Tick]:
    every = max(1, -(-len(labels) // MOST_X_LABELS))  # at most MOST_X_LABELS labels, evenly spread
    shown = [(i, label) for i, label in enumerate(labels) if i % every == 0]
    staggered = len(shown) > STAGGER_OVER
    first_row = HEIGHT - BOTTOM + FONT_PX + 4
    return [
        Tick(LEFT + (i + 0.5) * slot, first_row + (FONT_PX + 4) * (n % 2 if staggered else 0), label)
        for n, (i, label) in enumerate(shown)
    ]


def _y_ticks(top: float, unit: str) -> list[Tick]:
    """Each value written just above its grid line, at the plot's left edge."""
    plot_h = HEIGHT - TOP - BOTTOM
    return [Tick(LEFT, TOP + plot_h * (1 - share) - 4, f"{_number(top * share)}{unit}") for share in (0, 0.5, 1)]


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:g}"
