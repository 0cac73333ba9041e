"""Safe opening of untrusted files: every hostile or broken kind is refused, in bounded cost."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import psutil
import pytest
import xlsxwriter

from pipeline.readers import Limits, check_container, read_files, read_workbook

SHEETS = ("进展填报", "_报送标识")


def _workbook(path: Path, cells: dict[str, object], sheet: str = "进展填报") -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    for ref, value in cells.items():
        worksheet.write(ref, value)
    workbook.close()
    return path


def _rewrite(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            out.writestr(name, change(name, src.read(name)))
    return target


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of file a mailbox can deliver, with the refusal code it must get."""
    ok = _workbook(folder / "ok.xlsx", {"A1": "任务编号", "B2": 3})
    files = {}

    def add(name: str, data: bytes, code: str) -> None:
        (folder / name).write_bytes(data)
        files[name] = (folder / name, code)

    add("empty.xlsx", b"", "file-empty")
    add("truncated.xlsx", ok.read_bytes()[:2000], "file-truncated")
    add("picture.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "file-not-workbook")
    add("scan.xlsx", b"%PDF-1.4\n" + b"x" * 200, "file-not-workbook")
    add("renamed.xlsx", "任务编号,完成状态\n1-1,已完成\n".encode("utf-8"), "file-not-workbook")
    add("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "file-old-format")
    add("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
        + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100, "file-encrypted")
    bomb = folder / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (80 * 2**20))
    files["bomb.xlsx"] = (bomb, "file-zip-bomb")
    entity = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    files["billion.xlsx"] = (_rewrite(ok, folder / "billion.xlsx", lambda n, d: d.replace(b"?>", b"?>" + entity, 1)
                                      if n == "xl/sharedStrings.xml" else d), "file-xml-entity")
    external = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    files["external.xlsx"] = (_rewrite(ok, folder / "external.xlsx", lambda n, d: d.replace(b"?>", b"?>" + external, 1)
                                       if n == "xl/workbook.xml" else d), "file-xml-entity")
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><sst/>'.encode("utf-16-le")
    files["utf16.xlsx"] = (_rewrite(ok, folder / "utf16.xlsx", lambda n, d: utf16
                                    if n == "xl/sharedStrings.xml" else d), "file-xml-entity")
    word = folder / "word.xlsx"
    with zipfile.ZipFile(word, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    files["word.xlsx"] = (word, "file-not-workbook")
    files["xfd.xlsx"] = (_workbook(folder / "xfd.xlsx", {"A1": "x", "XFD1048576": "y"}), "file-reader-crashed")
    # 5 KB that ask the reader for 700 million cells: without a limit, a minute and a half and
    # tens of GB.
    files["cells.xlsx"] = (cell_bomb(folder / "cells.xlsx"), "file-reader-crashed")
    return files


def cell_bomb(path: Path, corner: str = "ZZ1048576") -> Path:
    return _workbook(path, {"A1": "x", corner: "y"})


def test_every_hostile_kind_is_refused_and_the_good_file_goes_through(tmp_path):
    files = hostile_files(tmp_path)
    good = tmp_path / "ok.xlsx"
    started = time.monotonic()
    results = dict(read_files([good, *(path for path, _ in files.values())], SHEETS, workers=2))
    elapsed = time.monotonic() - started
    for name, (path, code) in files.items():
        refusal = results[str(path)].refusal
        assert refusal is not None and refusal.code == code, (name, refusal)
        assert refusal.severity == "error" and refusal.message and refusal.fix
    assert results[str(good)].refusal is None
    assert results[str(good)].workbook.sheets["进展填报"][0][0] == "任务编号"
    # Bounded cost: the whole hostile batch is far from the minutes a naive reader spends.
    assert elapsed < 60


def test_the_parent_process_stays_small_whatever_the_files(tmp_path):
    files = hostile_files(tmp_path)
    this = psutil.Process()
    before = this.memory_info().rss
    list(read_files([path for path, _ in files.values()], SHEETS, workers=2))
    assert this.memory_info().rss - before < 200 * 2**20  # the bombs never reach this process


def test_a_worker_crash_costs_only_the_file_that_caused_it(tmp_path):
    crash = _workbook(tmp_path / "xfd.xlsx", {"A1": "x", "XFD1048576": "y"})
    good = [_workbook(tmp_path / f"good{n}.xlsx", {"A1": f"v{n}"}) for n in range(6)]
    results = dict(read_files([*good[:3], crash, *good[3:]], SHEETS, workers=2))
    assert results[str(crash)].refusal.code == "file-reader-crashed"
    for n, path in enumerate(good):
        assert results[str(path)].workbook.sheets["进展填报"][0][0] == f"v{n}"


def test_limits_are_checked_from_the_zip_directory_before_parsing(tmp_path):
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(30):
            archive.writestr(f"xl/part{n}.xml", "<a/>")
    assert check_container(many, Limits(max_members=20)).refusal.code == "file-zip-bomb"
    big = _workbook(tmp_path / "big.xlsx", {"A1": "x" * 1000})
    assert check_container(big, Limits(max_bytes=100)).refusal.code == "file-too-large"


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_sheet_states_and_macros_are_reported(tmp_path, state):
    path = tmp_path / "m.xlsm"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("进展填报").write("A1", "a")
    hidden = workbook.add_worksheet("_报送标识")
    hidden.write("A1", "unit_code")
    hidden.very_hidden() if state == "veryHidden" else hidden.hide()
    workbook.add_vba_project(_vba_stub(tmp_path))
    workbook.close()
    [(_, result)] = read_files([path], SHEETS)
    assert result.workbook.states["_报送标识"] == state.lower()
    assert [n.code for n in result.notes] == ["file-macros"]


def _vba_stub(folder: Path) -> str:
    stub = folder / "vbaProject.bin"
    stub.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return str(stub)


def test_a_file_gone_before_it_is_read_is_a_finding(tmp_path):
    good = _workbook(tmp_path / "good.xlsx", {"A1": "v"})
    results = dict(read_files([tmp_path / "gone.xlsx", good], SHEETS, workers=1))
    assert results[str(tmp_path / "gone.xlsx")].refusal.code == "file-reader-failed"
    assert results[str(good)].refusal is None


def test_a_crash_while_files_are_still_being_handed_over_loses_none(tmp_path):
    crash = _workbook(tmp_path / "xfd.xlsx", {"A1": "x", "XFD1048576": "y"})
    good = [_workbook(tmp_path / f"good{n}.xlsx", {"A1": f"v{n}"}) for n in range(4)]
    handed = []

    def slowly():  # as collect hands files over while it archives the next ones
        for path in [crash, *good]:
            handed.append(path)
            yield path
            time.sleep(0.5)  # the worker reading the first file dies meanwhile

    results = dict(read_files(slowly(), SHEETS, workers=2, expected=5))
    assert handed == [crash, *good] and len(results) == 5
    assert results[str(crash)].refusal.code == "file-reader-crashed"
    for n, path in enumerate(good):
        assert results[str(path)].workbook.sheets["进展填报"][0][0] == f"v{n}"


@pytest.mark.parametrize("crash", [False, True], ids=["all read", "a worker dies"])
def test_the_caller_s_own_work_is_done_once_while_the_workers_read(tmp_path, crash):
    files = [_workbook(tmp_path / f"good{n}.xlsx", {"A1": f"v{n}"}) for n in range(6)]
    if crash:
        files.insert(2, _workbook(tmp_path / "xfd.xlsx", {"A1": "x", "XFD1048576": "y"}))
    handed, calls = [], []

    def hand_over():
        for path in files:
            handed.append(path)
            yield path

    results = read_files(hand_over(), SHEETS, workers=2, expected=len(files),
                         meanwhile=lambda: calls.append(len(handed)))
    assert len(dict(results)) == len(files)
    assert len(calls) == 1  # once, and with every file handed over when no worker died meanwhile
    assert crash or calls == [len(files)]


def test_what_is_remembered_of_a_part_is_that_part_s_own(tmp_path):
    """A worker remembers what it worked out from parts many files share (styles, relationships),
    by their bytes: a file whose parts differ gets its own answer, before and after the others."""
    plain = _workbook(tmp_path / "plain.xlsx", {"A1": 1})
    shown = tmp_path / "percent.xlsx"
    workbook = xlsxwriter.Workbook(str(shown))
    workbook.add_worksheet("进展填报").write("A1", 1, workbook.add_format({"num_format": "0%"}))
    workbook.close()
    hidden_entity = _rewrite(plain, tmp_path / "entity.xlsx", lambda name, data: data.replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY a "b">]>', 1) if name == "xl/styles.xml" else data)
    for path, percent in ((plain, set()), (shown, {(0, 0)}), (plain, set()), (shown, {(0, 0)})):
        read = read_workbook(str(path), SHEETS, True, Limits())
        assert read.workbook.percent.get("进展填报", set()) == percent, path.name
    assert read_workbook(str(hidden_entity), SHEETS, True, Limits()).refusal.code == "file-xml-entity"
