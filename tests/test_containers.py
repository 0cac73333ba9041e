"""Workbooks that arrive inside other files: packed in a .zip, attached to a mail saved as .eml."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from email.message import EmailMessage
from pathlib import Path

from pipeline.containers import MAX_DEPTH, SEPARATOR
from pipeline.workspace import file_hash

from test_collect import PERIOD, codes, good_filling, issued, run, send, workspace  # noqa: F401 (fixtures)

OTHER = "市教育局"


def filled(workspace, unit: str, name: str) -> bytes:
    """A unit's correctly filled template, as bytes (the file is removed from the folder)."""
    path = send(workspace, good_filling(workspace, unit), name, unit)
    data = path.read_bytes()
    path.unlink()
    return data


def write_zip(path: Path | io.BytesIO, members: list[tuple[str | zipfile.ZipInfo, bytes]],
              gbk: str = "") -> Path:
    """A zip of ``members``; the member named ``gbk`` is named as Chinese Windows' own zip writer
    names it: in GBK bytes, without the UTF-8 flag."""
    buffer = io.BytesIO()
    placeholder = b"G" * len(gbk.encode("gbk"))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(placeholder.decode() if gbk and name == gbk else name, data)
    data = buffer.getvalue().replace(placeholder, gbk.encode("gbk")) if gbk else buffer.getvalue()
    for name, _ in members:
        if name.startswith("加密"):  # marked as having a password, as a member written with one is
            data = encrypted(data, name)
    if isinstance(path, io.BytesIO):
        path.write(data)
    else:
        path.write_bytes(data)
    return path


def encrypted(data: bytes, name: str) -> bytes:
    """``data`` with the member ``name`` flagged as encrypted, in its local and its central header."""
    flagged = bytearray(data)
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    flagged[member.header_offset + 6] |= 0x1
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name.encode())] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    flagged[central + 8] |= 0x1
    return bytes(flagged)


def mail(*attachments: tuple[str, bytes], forwarded: EmailMessage | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "财政局 <czj@example.gov.cn>"
    message["To"] = "office@example.gov.cn"
    message["Subject"] = "6月进展报送"
    message.set_content("请查收附件。")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    if forwarded is not None:
        message.add_attachment(forwarded)
    return message


def test_workbooks_in_a_zip_are_each_received_under_the_zip_name(workspace):
    folder = workspace.input_dir / PERIOD
    ours, theirs = filled(workspace, "市财政局", "a.xlsx"), filled(workspace, OTHER, "b.xlsx")
    packed = write_zip(folder / "两个单位.zip", [
        ("报送/财政局6月.xlsx", ours),
        ("报送/教育局6月.xlsx", theirs),
        ("__MACOSX/报送/._教育局6月.xlsx", b"\x00\x05\x16\x07"),
        ("报送/~$教育局6月.xlsx", b"lock"),
    ], gbk="报送/财政局6月.xlsx")
    result, files = run(workspace)
    first, second = f"两个单位.zip{SEPARATOR}报送/财政局6月.xlsx", f"两个单位.zip{SEPARATOR}报送/教育局6月.xlsx"
    assert set(files) == {first, second}
    assert files[first].status == "accepted" and files[first].unit_code == "S009"
    assert files[second].status == "accepted" and files[second].unit_code == "S004"  # 市教育局
    assert {"S009", "S004"}.isdisjoint(result.missing)
    # The zip is what was received and archived; its files are archived too, each under its hash.
    db = sqlite3.connect(workspace.ledger_path)
    assert db.execute("SELECT file_name FROM receipts WHERE period = ?", (PERIOD,)).fetchall() == [("两个单位.zip",)]
    zip_sha, _ = file_hash(packed)
    assert (workspace.archive_dir / zip_sha[:2] / f"{zip_sha}.zip").read_bytes() == packed.read_bytes()
    for outcome, data in ((files[first], ours), (files[second], theirs)):
        assert (workspace.archive_dir / outcome.sha256[:2] / f"{outcome.sha256}.xlsx").read_bytes() == data
    # Collecting again, with the zip gone from the folder, opens it from the archive: the same result.
    packed.unlink()
    again, files_again = run(workspace)
    assert {n: (o.status, o.unit_code) for n, o in files_again.items()} == \
        {n: (o.status, o.unit_code) for n, o in files.items()}


def test_a_mail_saved_as_eml_gives_its_attachments_and_a_forwarded_mail_its_own(workspace):
    folder = workspace.input_dir / PERIOD
    ours, theirs = filled(workspace, "市财政局", "a.xlsx"), filled(workspace, OTHER, "b.xlsx")
    forwarded = mail(("教育局报送表.xlsx", theirs))
    (folder / "财政局来信.eml").write_bytes(bytes(mail(("财政局报送表.xlsx", ours), forwarded=forwarded)))
    (folder / "没有附件.eml").write_bytes(bytes(mail()))
    (folder / "不是邮件.eml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    _, files = run(workspace)
    assert files[f"财政局来信.eml{SEPARATOR}财政局报送表.xlsx"].status == "accepted"
    nested = files[f"财政局来信.eml{SEPARATOR}6月进展报送.eml{SEPARATOR}教育局报送表.xlsx"]
    assert nested.status == "accepted" and nested.unit_code == "S004"
    empty = files["没有附件.eml"]
    assert empty.status == "rejected" and codes(empty) == ["container-empty"]
    assert "邮件中没有可读取的文件" in empty.findings[0].message
    assert codes(files["不是邮件.eml"]) == ["container-not-mail"]


def test_what_a_zip_cannot_give_is_a_finding_and_the_rest_goes_through(workspace):
    folder = workspace.input_dir / PERIOD
    ours = filled(workspace, "市财政局", "a.xlsx")
    deep = ours
    for level in range(MAX_DEPTH + 1):
        buffer = io.BytesIO()
        write_zip(buffer, [(f"第{level + 1}层.zip" if level else "深处.xlsx", deep)])
        deep = buffer.getvalue()
    write_zip(folder / "混合.zip", [
        ("财政局.xlsx", ours),
        ("加密.xlsx", b"encrypted bytes"),
        ("全是零.xlsx", bytes(3 * 2**20)),
        ("../../逃出去.xlsx", b"not a workbook"),
        ("套娃.zip", deep),
    ])
    (folder / "坏的.zip").write_bytes((folder / "混合.zip").read_bytes()[:200])
    write_zip(folder / "太多.zip", [(f"{n}.txt", b"x") for n in range(250)])
    (folder / "压缩.rar").write_bytes(b"Rar!\x1a\x07\x00" + bytes(100))
    (folder / "压缩.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(100))
    _, files = run(workspace)
    inside = {name.partition(SEPARATOR)[2]: o for name, o in files.items() if name.startswith("混合.zip")}
    assert inside["财政局.xlsx"].status == "accepted"
    assert codes(inside["加密.xlsx"]) == ["file-encrypted"]
    assert codes(inside["全是零.xlsx"]) == ["file-zip-bomb"]
    assert codes(inside["逃出去.xlsx"]) == ["file-not-workbook"]  # named without ../, read like any file
    # 混合.zip, 套娃.zip and 第4层.zip are opened: MAX_DEPTH levels; 第3层.zip in the last one is not.
    assert MAX_DEPTH == 3
    too_deep = SEPARATOR.join(["套娃.zip", "第4层.zip", "第3层.zip"])
    assert codes(inside[too_deep]) == ["container-too-deep"]
    assert codes(files["坏的.zip"]) == ["file-truncated"]
    assert codes(files["太多.zip"]) == ["file-zip-bomb"] and "250" in files["太多.zip"].findings[0].message
    for name in ("压缩.rar", "压缩.7z"):
        assert codes(files[name]) == ["file-archive-unsupported"]
        assert ".zip" in files[name].findings[0].fix
    assert not any(workspace.root.parent.glob("逃出去*")) and not any(workspace.root.rglob("逃出去*"))


def test_a_workbook_named_zip_is_read_as_a_workbook(workspace):
    folder = workspace.input_dir / PERIOD
    (folder / "财政局.zip").write_bytes(filled(workspace, "市财政局", "a.xlsx"))
    _, files = run(workspace)
    assert list(files) == ["财政局.zip"] and files["财政局.zip"].status == "accepted"
