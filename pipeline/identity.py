"""The identity a fill-in workbook carries: who it is for, which month, plan and form, and a signature.

Written by the template writer into a very-hidden sheet (and mirrored in defined names), read
back by the submission reader. Every value is a string: LibreOffice turns integers into
floats on re-save, and re-saves a very-hidden sheet as merely hidden, so readers depend on
neither.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, fields, replace

IDENTITY_SHEET = "_报送标识"
# Defined names mirroring the identity: BS_<FIELD>; Excel: names are letters, digits and _.
NAME_PREFIX = "BS_"
TASK_SEPARATOR = ","


@dataclass(frozen=True)
class Identity:
    """What a template was issued as. ``signature`` is an HMAC-SHA256 over all other fields."""

    form_version: str
    plan_version: str
    unit_code: str
    unit_name: str
    period: str
    generated_at: str
    task_ids: tuple[str, ...]
    signature: str = ""

    def payload(self) -> bytes:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "signature"}
        return json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def signed(self, key: bytes) -> "Identity":
        return replace(self, signature=hmac.new(key, self.payload(), hashlib.sha256).hexdigest())

    def verify(self, key: bytes) -> bool:
        expected = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    def rows(self) -> list[tuple[str, str]]:
        """(field, text) pairs as written in the identity sheet, in field order."""
        return [
            (f.name, TASK_SEPARATOR.join(value) if isinstance(value, tuple) else value)
            for f in fields(self)
            for value in [getattr(self, f.name)]
        ]

    @classmethod
    def from_rows(cls, values: dict[str, str]) -> "Identity | None":
        """Rebuild from field texts; None when a field is missing (not one of our workbooks)."""
        try:
            texts = {f.name: str(values[f.name]).strip() for f in fields(cls)}
        except KeyError:
            return None
        task_ids = tuple(t for t in texts.pop("task_ids").split(TASK_SEPARATOR) if t)
        return cls(task_ids=task_ids, **texts)


def defined_name(field_name: str) -> str:
    return NAME_PREFIX + field_name.upper()
