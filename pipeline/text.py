"""Pure text helpers shared by the readers: decoding, width folding, cell cleaning, bracket-aware splits."""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

_OPEN = "(["
_CLOSE = ")]"
_SPACE = re.compile(r"[ \t\u3000\xa0]+")
_LINE_BREAK = re.compile(r"[ \t\u3000\xa0]*(?:\r\n|\r|\n)[ \t\u3000\xa0]*")


def decode_text(raw: bytes) -> str | None:
    """A text file's bytes as Windows tools save them: UTF-16 after its byte order mark (Notepad's
    "Unicode"), UTF-8 with or without the mark, else GBK (read as GB 18030, which contains it);
    None when none of them fits."""
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Fold full-width forms to half-width (``（市、区）`` -> ``(市、区)``) and drop all white space.

    Used for matching names and labels, never for text shown back to people. Cached: the same
    labels and task texts are folded in every returned file.
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def clean_cell(value: object) -> str:
    """A cell's text with line breaks joined and stray spaces collapsed.

    A line break between two Chinese characters is dropped (it came from the cell width);
    elsewhere it becomes one space.
    """
    if value is None:
        return ""
    text = str(value).strip()

    def join(match: re.Match) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        return " " if before.isascii() and after.isascii() else ""

    text = _LINE_BREAK.sub(join, text)
    return _SPACE.sub(" ", text).strip()


def split_outside_brackets(text: str, separators: str) -> list[str]:
    """Split ``text`` at any of ``separators`` that is not inside round or square brackets.

    ``各县(市、区)人民政府、市财政局`` split at ``、`` gives the county reference whole.
    Expects folded text (half-width brackets). Empty parts are dropped.
    """
    parts, depth, current = [], 0, []
    for char in text:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE and depth:
            depth -= 1
        if char in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def split_list(value: object) -> list[str]:
    """A registry list cell (``、`` ``,`` ``;`` separated, any width) as folded items."""
    if value is None:
        return []
    return split_outside_brackets(fold(str(value)), "、,;")


def cell_string(value: object) -> str:
    """A spreadsheet value as text: whole floats lose their ``.0`` (codes typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


SENTENCE_END = "。！？；!?;"
_CLAUSE_END = "，,。；;：:！？!?"


def excerpt(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters and ``…``: at the last sentence end that
    keeps at least half of it, else at the last clause end that does, else at the limit. Text
    that fits is given whole."""
    text = text.strip()
    if len(text) <= limit:
        return text
    for ends in (SENTENCE_END, "，,、"):
        cut = max(text.rfind(mark, 0, limit - 1) for mark in ends)
        if cut >= limit // 2:
            return text[:cut + (ends == SENTENCE_END)] + "…"
    return text[:limit - 1] + "…"


def short_title(text: str, limit: int = 20) -> str:
    """A task's requirement as a short title: its first clause, shortened with ``…`` if long
    (leading numbering such as ``1.`` or ``（一）`` dropped)."""
    text = re.sub(r"^\s*(?:[（(]?[0-9一二三四五六七八九十]+[)）.、．]\s*)+", "", text).strip()
    end = next((i for i, char in enumerate(text) if char in _CLAUSE_END), len(text))
    clause = text[:end] or text
    return clause if len(clause) <= limit else clause[:limit - 1] + "…"
