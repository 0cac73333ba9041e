"""Zip packages (.xlsx, .docx) at the level of their stored members: a member's bytes as they lie
in the zip, and a zip written from such members with every stored time pinned (determinism: the
zip format stores write times). A member taken from one package into another is never unpacked."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path
from typing import Iterable

# Each member's data follows a local header of 30 bytes (signature, ..., name length, extra field
# length), its name and its extra field.
_LOCAL_HEADER = struct.Struct("<4s22xHH")
# The headers written: local (signature, version needed, flags, method, time, date, CRC-32, sizes,
# name and extra lengths), central directory entry (the same with the system that made it, comment
# length, disk, attributes and the local header's offset), and the end of the directory.
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_UTF8_NAME = 0x800  # general purpose flag bit 11: the name is UTF-8
_LIMIT = 0xFFFFFFFF  # past this a zip needs the Zip64 extension, which no document here comes near

Member = tuple[zipfile.ZipInfo, "bytes | memoryview"]  # a member's entry and its bytes as stored
COPIED = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # how a member ``packed`` writes may be stored


_MODIFIED = re.compile(rb"<dcterms:modified\b[^>]*>([^<]*)</")


def written_as(path: Path, stamp: str, created: dt.datetime, part: str, where: re.Pattern) -> bool:
    """Whether the package at ``path`` is one this program wrote with ``stamp`` (which ``where``
    finds in its ``part``) and made at ``created``, and that no office program has saved since
    (Word, Excel, WPS and LibreOffice record when they save; a tool that changes a package without
    recording it goes unseen)."""
    try:
        with zipfile.ZipFile(path) as package:
            core = package.read("docProps/core.xml")
            text = core if part == "docProps/core.xml" else package.read(part)
        kept, modified = where.search(text), _MODIFIED.search(core)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return (kept is not None and kept.group(1) == stamp.encode()
            and modified is not None and modified.group(1) == created.strftime("%Y-%m-%dT%H:%M:%SZ").encode())


def stored_bytes(data: bytes | memoryview, member: zipfile.ZipInfo) -> memoryview:
    """The bytes of ``member`` as stored (compressed, if it is) in the zip ``data``."""
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, member.header_offset)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {member.filename}")
    begin = member.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    return memoryview(data)[begin:begin + member.compress_size]


def members(data: bytes) -> list[Member]:
    """Every member of the zip ``data``, in its order, with its bytes as stored."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
    return [(entry, stored_bytes(data, entry)) for entry in entries]


def packed(entries: Iterable[Member], when: dt.datetime) -> bytes:
    """A zip of ``entries`` in their order, their bytes as given, every stored time ``when``."""
    time = when.hour << 11 | when.minute << 5 | when.second // 2
    date = (when.year - 1980) << 9 | when.month << 5 | when.day
    out, directory = bytearray(), bytearray()
    count = 0
    for info, data in entries:
        if info.compress_type not in COPIED:
            raise zipfile.BadZipFile(f"compression {info.compress_type} of {info.filename}")
        if max(info.file_size, len(data), len(out)) >= _LIMIT:
            raise zipfile.LargeZipFile(info.filename)
        try:
            name, flags = info.filename.encode("ascii"), 0
        except UnicodeEncodeError:
            name, flags = info.filename.encode("utf-8"), _UTF8_NAME
        version = 20 if info.compress_type == zipfile.ZIP_DEFLATED else 10
        head = (version, flags, info.compress_type, time, date, info.CRC, len(data), info.file_size, len(name))
        directory += _CENTRAL.pack(b"PK\x01\x02", version, *head, 0, 0, 0, 0, info.external_attr, len(out)) + name
        out += _LOCAL.pack(b"PK\x03\x04", *head, 0) + name
        out += data
        count += 1
    if count > 0xFFFF or len(out) + len(directory) >= _LIMIT:
        raise zipfile.LargeZipFile(f"{count} members, {len(out)} bytes")
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
    return bytes(out + directory + end)
