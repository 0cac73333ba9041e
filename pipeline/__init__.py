"""报送: turning a yearly work plan into monthly fill-in workbooks, and the returns into reports."""

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def program_version() -> str:
    """The program as installed: its version number and a hash of its code (what it concludes
    from a file, and how it writes one, may change with either)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def content_hash(*parts: bytes) -> str:
    """A hash of what something is made from: each part hashed, then the parts together (so
    that no two lists of parts run together into the same bytes)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()
