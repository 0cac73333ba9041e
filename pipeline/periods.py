"""Reporting periods (``YYYY-MM``) and dates as the office writes them. Pure helpers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from .errors import PeriodError

# A month as clerks write it once full-width forms are folded: 2018-06, 2018-6, 2018年6月, 2018/6, 2018.6.
_PERIOD = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*月?")


def check_period(period: str) -> str:
    """The period as ``YYYY-MM`` (``2018-6``, ``2018年6月`` and full-width digits mean ``2018-06``),
    or a PeriodError telling the clerk how to write it."""
    match = _PERIOD.fullmatch(unicodedata.normalize("NFKC", period or "").strip())
    if not match or not 1900 <= int(match.group(1)) <= 2999 or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"“{period}”不是一个月份。请写成 年-月，例如 2018-06（也可以写 2018-6 或 2018年6月）。")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def split_period(period: str) -> tuple[int, int]:
    """``2018-06`` -> (2018, 6). The period is already checked (check_period)."""
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
