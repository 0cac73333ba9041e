"""Reporting periods (``YYYY-MM``) and dates as the office writes them. Pure helpers."""

from __future__ import annotations

import datetime as dt


def split_period(period: str) -> tuple[int, int]:
    """``2018-06`` -> (2018, 6). The period is already checked (workspace.check_period)."""
    year, month = period.split("-")
    return int(year), int(month)


def period_start(period: str) -> dt.date:
    return dt.date(*split_period(period), 1)


def period_end(period: str) -> dt.date:
    year, month = split_period(period)
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def previous_period(period: str) -> str:
    return (period_start(period) - dt.timedelta(days=1)).strftime("%Y-%m")


def issue_date(period: str, today: dt.date | None = None) -> dt.date:
    """The date a month's documents carry: the day they are made, but for a month long past (a
    report rebuilt later, the sample months) the last day of the month after it, every time."""
    following = period_end(period) + dt.timedelta(days=1)
    return min(today or dt.date.today(), period_end(following.strftime("%Y-%m")))


def months_between(first: str, last: str) -> list[str]:
    """Every calendar month from ``first`` to ``last``, both included."""
    months, current = [], last
    while current >= first:
        months.append(current)
        current = previous_period(current)
    return months[::-1]


def short_date(day: dt.date | str) -> str:
    """2018-06-25 -> 6月25日 (where the year goes without saying)."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.month}月{day.day}日"


def chinese_date(day: dt.date | str) -> str:
    """2018-06-25 -> 2018年6月25日."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.year}年{day.month}月{day.day}日"
