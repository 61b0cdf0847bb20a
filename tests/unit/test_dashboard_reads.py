"""The dashboard's pure parts: sales per day and channel, chart geometry, sessions (the stuck rules and the
histogram are SQL: tests/unit/test_overview_rules.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import SecretStr

from adapters.http.dashboard import charts
from adapters.http.dashboard.auth import new_session_cookie, read_session, session_secret
from adapters.http.dashboard.reads import units_by_day_and_channel

NOW = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)


def test_units_by_day_and_channel_fills_missing_days_with_zero() -> None:
    days = [date(2026, 2, 1), date(2026, 2, 2)]
    rows = [
        {"day": days[1], "channel": "shopify", "units": 3},
        {"day": days[1], "channel": "shopify", "units": 2},
        {"day": days[0], "channel": "pos", "units": 1},
    ]
    assert units_by_day_and_channel(rows, days) == {"pos": [1, 0], "shopify": [0, 5]}


def test_a_bar_chart_has_one_bar_per_category_and_series_inside_the_plot() -> None:
    chart = charts.bar_chart(["a", "b", "c"], {"web": [1, 0, 4], "pos": [2, 2, 2]})
    assert len(chart.marks) == 6
    tallest = max(chart.marks, key=lambda m: m.value)
    assert tallest.value == 4 and tallest.y >= charts.TOP
    assert all(m.y + m.height <= chart.baseline + 1e-9 for m in chart.marks)
    assert all(m.x >= charts.LEFT and m.x + m.width <= chart.width - charts.RIGHT + 1e-9 for m in chart.marks)


def test_a_dot_chart_of_zeros_has_points_but_no_data() -> None:
    chart = charts.dot_chart(["12:00", "12:01"], [0, 0])
    assert len(chart.marks) == 2 and not chart.has_data


def test_a_session_cookie_reads_back_until_it_expires() -> None:
    secret = session_secret([SecretStr("k1")])
    assert secret is not None
    cookie = new_session_cookie(secret, NOW, "key:abc")
    session = read_session(secret, cookie, NOW + timedelta(hours=1))
    assert session is not None and session.csrf and session.actor == "key:abc"
    assert read_session(secret, cookie, NOW + timedelta(days=1)) is None
    other = session_secret([SecretStr("k2")])
    assert other is not None and read_session(other, cookie, NOW) is None
    assert session_secret([]) is None
