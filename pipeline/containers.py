"""Files that hold the files units meant to send: a ``.zip`` they packed their workbook in, a
mail saved as ``.eml`` with the workbook attached.

Each inner file is taken out in memory, within limits, and received on its own under the name
``outer › inner``; a zip inside a zip (or a mail inside a mail) is opened in turn, to a set
depth. Nothing is ever written under a name found inside a container, so a member named
``../../x`` goes nowhere. What cannot be taken out is refused with a finding: the whole
container (damaged, a bomb, nothing inside) or one member (encrypted, too large, nested too deep).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Iterator

from .findings import Finding, finding
from .readers import Limits, member_refusal, size_words, too_large, unzipped_size_refusal

SEPARATOR = " › "
SUFFIXES = (".zip", ".eml")
MAX_DEPTH = 3  # a container in a container in a container: opened; one more level is not
MAX_FILES = 200  # inner files of one received container, however nested
# Folders and files that archivers and mail programs add beside the real files.
_SKIPPED = re.compile(r"(^|/)(__MACOSX|\.[^/]*|~\$[^/]*|thumbs\.db|desktop\.ini)(/|$)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Unopened(Exception):
    """A container that cannot be opened at all: ``finding`` says why."""

    def __init__(self, finding: Finding):
        super().__init__(finding.code)
        self.finding = finding


@dataclass(frozen=True)
class Inner:
    """A file found in a container: its name there (``a.zip › b.xlsx`` when nested), its bytes,
    its modification time as the container records it (ISO, or ""), or why it was not taken out."""

    name: str
    data: bytes = b""
    mtime: str = ""
    refusal: Finding | None = None


def is_container(name: str) -> bool:
    """Whether a received file of that name is opened as a container (by its suffix: a workbook
    is a zip too, and is read as one)."""
    return name.lower().endswith(SUFFIXES)


def unpack(name: str, data: bytes, limits: Limits = Limits()) -> Iterator[Inner] | None:
    """The files inside the container ``name`` holding ``data``, one at a time; None when it is
    a workbook after all (an .xlsx renamed .zip).

    Raises Unopened, before giving any, when the container itself cannot be opened.
    """
    budget = _Budget(limits)
    if name.lower().endswith(".eml"):
        return _mail(data, budget, 1)
    return _zip(data, budget, 1)


class _Budget:
    """What one received container may give in all, nested ones included."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.files = 0
        self.bytes = 0

    def take(self, size: int) -> Finding | None:
        """Count a file of ``size`` bytes; a refusal once the container has given too much."""
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES:
            return finding("file-zip-bomb", detail=f"压缩包内文件超过 {MAX_FILES} 个")
        if self.bytes > self.limits.max_unzipped:
            return finding("file-zip-bomb", detail=f"解压总量超过 {size_words(self.limits.max_unzipped)}")
        return None


def _zip(data: bytes, budget: _Budget, depth: int) -> Iterator[Inner] | None:
    """The members of a zip; None when it is a workbook (an .xlsx or .ods) rather than a container."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError):
        raise Unopened(finding("file-truncated")) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" in names or {"mimetype", "content.xml"} <= names:
        archive.close()
        return None
    if len(members) > MAX_FILES:
        raise Unopened(finding("file-zip-bomb", detail=f"含 {len(members)} 个文件"))
    refusal = unzipped_size_refusal(members, budget.limits)
    if refusal:
        raise Unopened(refusal)
    return _members(archive, members, budget, depth)


def _members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], budget: _Budget,
             depth: int) -> Iterator[Inner]:
    limits = budget.limits
    with archive:
        for member in sorted(members, key=lambda m: m.filename):
            name = _member_name(member)
            if _SKIPPED.search(name):
                continue
            mtime = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*member.date_time)
            refusal = budget.take(member.file_size) or member_refusal(member, limits) or too_large(member.file_size, limits.max_bytes)
            if refusal:
                yield Inner(name, mtime=mtime, refusal=refusal)
                continue
            try:
                with archive.open(member) as handle:
                    content = handle.read(limits.max_bytes + 1)
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError, RuntimeError):
                # damaged, a method the system cannot unpack, or a password the directory did not flag
                yield Inner(name, mtime=mtime, refusal=finding("file-truncated"))
                continue
            if len(content) > limits.max_bytes:  # the directory understated it
                yield Inner(name, mtime=mtime, refusal=too_large(len(content), limits.max_bytes))
                continue
            yield from _inner(name, content, mtime, budget, depth)


def _inner(name: str, content: bytes, mtime: str, budget: _Budget, depth: int) -> Iterator[Inner]:
    """A file taken out of a container: given as it is, or opened in turn when it is a container."""
    if not is_container(name):
        yield Inner(name, content, mtime)
        return
    if depth >= MAX_DEPTH:
        yield Inner(name, mtime=mtime, refusal=finding("container-too-deep", depth=MAX_DEPTH))
        return
    try:
        opened = _mail(content, budget, depth + 1) if name.lower().endswith(".eml") else _zip(content, budget, depth + 1)
    except Unopened as problem:
        yield Inner(name, mtime=mtime, refusal=problem.finding)
        return
    if opened is None:  # a workbook named .zip
        yield Inner(name, content, mtime)
        return
    given = False
    for inner in opened:
        given = True
        yield Inner(f"{name}{SEPARATOR}{inner.name}", inner.data, inner.mtime or mtime, inner.refusal)
    if not given:
        yield Inner(name, mtime=mtime, refusal=finding("container-empty", kind=kind(name)))


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its sender saw it: names not marked as UTF-8 are most often in the
    system's code page (GBK on Chinese Windows), which zipfile reads as CP437."""
    name = member.filename
    if not member.flag_bits & 0x800:
        raw = member.filename.encode("cp437", "replace")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return _clean(name.replace("\\", "/"))


def _clean(name: str) -> str:
    """A name for the results: no control characters, drive, leading slash, ``.`` or ``..``."""
    name = re.sub(r"^[A-Za-z]:", "", _CONTROL.sub("", name))
    return "/".join(part for part in name.split("/") if part not in ("", ".", "..")) or "（无名文件）"


def _mail(data: bytes, budget: _Budget, depth: int) -> Iterator[Inner]:
    import email.policy  # only for a mail file: loading it takes a collect's start a hundredth of a second

    message = email.message_from_bytes(data, policy=email.policy.default)
    attachments = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        if part.get_content_type() == "message/rfc822":
            forwarded = part.get_payload(0)
            subject = _clean(str(forwarded.get("Subject", "")).replace("/", "／"))
            attachments.append((_attachment_name(part.get_filename(), f"{subject or '转发的邮件'}.eml"), part))
        elif part.get_filename():
            attachments.append((_attachment_name(part.get_filename(), ""), part))
    if not attachments and not message.is_multipart() and message.get("Content-Type") is None \
            and message.get("From") is None:
        raise Unopened(finding("container-not-mail"))
    return _attachments(attachments, budget, depth)


def _attachments(attachments: list, budget: _Budget, depth: int) -> Iterator[Inner]:
    limits = budget.limits
    for name, part in attachments:
        if _SKIPPED.search(name):
            continue
        if part.get_content_type() == "message/rfc822":
            content = part.get_payload(0).as_bytes()
            if not name.lower().endswith(".eml"):
                name += ".eml"
        else:
            content = part.get_payload(decode=True) or b""
        refusal = budget.take(len(content)) or too_large(len(content), limits.max_bytes)
        if refusal:
            yield Inner(name, refusal=refusal)
            continue
        yield from _inner(name, content, "", budget, depth)


def _attachment_name(name: str | None, default: str) -> str:
    """An attachment's file name; one a mail program wrote in raw GBK comes back readable."""
    if not name:
        return default
    if any("\udc80" <= char <= "\udcff" for char in name):
        name = name.encode("utf-8", "surrogateescape").decode("gb18030", "replace")
    return _clean(name.replace("\\", "/").rpartition("/")[2]) or default


def kind(name: str) -> str:
    """What a container of that name is, in the clerk's word."""
    return "邮件" if name.lower().endswith(".eml") else "压缩包"
