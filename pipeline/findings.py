"""Problems found in units' files (stable codes, severities, Chinese messages and fixes), and
what is decided for each file.

Findings are data, never raised. Each kind has a code, a severity, and message and fix
templates filled from the fields of the occurrence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class Worded(enum.StrEnum):
    """A value of the JSON contracts that carries the Chinese word a clerk reads for it."""

    def __new__(cls, value: str, word: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._word = word
        return member

    @property
    def word(self) -> str:
        return self._word


class Severity(Worded):
    ERROR = "error", "错误"
    WARNING = "warning", "提醒"


class FileStatus(Worded):
    """What was decided for a received file (the ``status`` of ``collect --json``)."""

    ACCEPTED = "accepted", "通过"  # its data is used (warnings allowed)
    RETURNED = "returned", "退回修改"  # a known unit's file with errors, sent back for correction
    REJECTED = "rejected", "拒收"  # not a usable template at all
    SUPERSEDED = "superseded", "已被替代"  # an earlier file of a unit that sent a later one


STANDING = (FileStatus.ACCEPTED, FileStatus.RETURNED)  # a unit's file that counts as its report



@dataclass(frozen=True)
class Kind:
    severity: Severity
    message: str
    fix: str


KINDS: dict[str, Kind] = {
    # -- the file as a whole
    "file-empty": Kind(Severity.ERROR, "文件是空的（0 字节）。", "请重新保存填报表后再发送。"),
    "file-too-large": Kind(Severity.ERROR, "文件过大（{size}），超过 {limit} 的上限。", "请确认发送的是本单位的填报表，删除插入的图片后再发送。"),
    "file-truncated": Kind(Severity.ERROR, "文件不完整或已损坏，无法打开。", "请在 Excel/WPS 中打开确认无误，重新保存为 .xlsx 后再发送。"),
    "file-old-format": Kind(Severity.ERROR, "文件是{kind}，无法读取。", "请在 Excel 或 WPS 中打开，选择“另存为”→“Excel 工作簿(*.xlsx)”后再发送。"),
    "file-encrypted": Kind(Severity.ERROR, "文件设置了打开密码，无法读取。", "请取消文件密码（文件→加密/保护工作簿），保存后再发送。"),
    "file-not-workbook": Kind(Severity.ERROR, "文件不是 Excel 表格，而是{kind}。", "请发送下发的 .xlsx 填报表，不要发送截图、PDF 或其他文件。"),
    "file-zip-bomb": Kind(Severity.ERROR, "文件解压后异常庞大（{detail}），已按安全规定拒绝读取。", "请重新使用下发的填报表填写后发送。"),
    "file-xml-entity": Kind(Severity.ERROR, "文件含有不允许的 XML 实体声明（{part}），已按安全规定拒绝读取。", "请重新使用下发的填报表填写后发送。"),
    "file-reader-failed": Kind(Severity.ERROR, "读取文件时出错：{detail}。", "请在 Excel/WPS 中打开确认无误，重新保存为 .xlsx 后再发送。"),
    "file-reader-crashed": Kind(Severity.ERROR, "读取文件时程序{detail}，文件可能是恶意构造或严重损坏的。", "请重新使用下发的填报表填写后发送。"),
    "file-macros": Kind(Severity.WARNING, "文件含有宏（VBA），宏不会被运行，只读取数据。", "今后请保存为 .xlsx（不含宏）格式。"),
    "file-archive-unsupported": Kind(Severity.ERROR, "文件是{kind}，无法打开（只能打开 .zip 压缩包）。", "请解压后直接发送其中的 .xlsx 填报表，或改用 .zip 格式压缩后发送。"),
    "container-empty": Kind(Severity.ERROR, "{kind}中没有可读取的文件。", "请把填好的 .xlsx 填报表作为附件（或放进 .zip 压缩包）重新发送。"),
    "container-too-deep": Kind(Severity.ERROR, "压缩包或邮件层层嵌套超过 {depth} 层，里面的文件没有取出。", "请直接发送填报表，或只压缩一层。"),
    "container-not-mail": Kind(Severity.ERROR, "文件扩展名是 .eml，但内容不是邮件。", "请直接发送 .xlsx 填报表。"),
    "file-duplicate": Kind(Severity.WARNING, "与 {other} 内容完全相同，只按一份处理。", "无需处理。"),
    # -- whose file is it
    "not-template": Kind(Severity.ERROR, "不是本系统下发的填报表（找不到标识信息）。", "请使用办公室下发的本单位填报表填写，不要自行新建表格或复制内容到新文件。"),
    "signature-invalid": Kind(Severity.ERROR, "填报表的标识信息与本办公室下发的不符（标识为 {unit}、{period}）：标识被改动过，或这是另一个报送系统（其他年度、其他办公室）下发的表。", "请使用本办公室本期下发的原始填报表重新填写。"),
    "unknown-unit": Kind(Severity.ERROR, "标识中的单位编码 {unit_code} 不在单位名录中。", "请联系办公室确认单位名录。"),
    "unit-mismatch": Kind(Severity.ERROR, "“{label}”写的是“{written}”{other}，但这份填报表是发给{unit}的（表内标识），不能确定是哪个单位的报送。",
                          "如是{unit}的报送，请把“{label}”改回“{unit}”；如是其他单位的报送，请使用办公室发给该单位的填报表重新填写。"),
    "wrong-period": Kind(Severity.ERROR, "这是 {found} 的填报表，不是本期（{expected}）的。", "请使用本期下发的填报表填写后重新报送。"),
    "wrong-plan": Kind(Severity.ERROR, "填报表来自另一版计划（{found}），当前计划版本为 {expected}。", "请使用本期下发的填报表重新填写。"),
    "wrong-form": Kind(Severity.ERROR, "填报表的表单版本为 {found}，当前为 {expected}。", "请使用本期下发的填报表重新填写。"),
    # -- layout
    "formula-value": Kind(Severity.WARNING, "任务 {task_id} 的“{label}”是公式（={formula}），按它保存的计算结果“{value}”读取。", "请直接填写内容，不要使用公式。"),
    "formula-no-value": Kind(Severity.ERROR, "任务 {task_id} 的“{label}”是公式（={formula}），文件中没有保存计算结果，无法读取。", "请直接填写内容；或在 Excel/WPS 中打开、保存一次后再报送。"),
    "template-blank": Kind(Severity.ERROR, "填报表是空白的：各项任务都没有填写。", "请填写本单位各项任务的进展后再报送（发错文件的，请发送填好的那一份）。"),
    "sheet-missing": Kind(Severity.ERROR, "找不到工作表“{sheet}”。", "请不要删除或改名工作表；使用下发的填报表重新填写。"),
    "header-row-missing": Kind(Severity.ERROR, "找不到表头行（含“{labels}”的一行）。", "请不要删除或修改表头；使用下发的填报表重新填写。"),
    "column-missing": Kind(Severity.ERROR, "表头中缺少“{label}”列。", "请恢复该列（可从下发的填报表复制）。"),
    "task-row-missing": Kind(Severity.ERROR, "任务 {task_id} 的行被删除了。", "请恢复该任务行（可从下发的填报表复制）并填写。"),
    "task-row-duplicate": Kind(Severity.ERROR, "任务 {task_id} 出现了不止一行（另见第{other_row}行）。", "请删除重复的行，每项任务只保留一行。"),
    "task-row-unknown": Kind(Severity.ERROR, "任务编号“{task_id}”不是本单位的任务。", "请不要修改任务编号；该行内容请写到对应任务的行中。"),
    "row-inserted": Kind(Severity.WARNING, "第{row}行是插入的行，内容已归入上方任务 {task_id}。", "请把补充内容写在任务行内（如“{remarks}”列），不要插入新行。"),
    "task-text-changed": Kind(Severity.WARNING, "任务内容“{label}”被改动，原文为：{original}", "任务内容由办公室下发，请不要修改；以原文为准。"),
    # -- values
    "header-field-missing": Kind(Severity.ERROR, "表头“{label}”未填写。", "请在“{label}”右侧的单元格中填写。"),
    "status-invalid": Kind(Severity.ERROR, "任务 {task_id} 的“{label}”填的“{value}”不在可选项中。", "{suggestion}请从下拉列表中选择：{choices}。"),
    "required-missing": Kind(Severity.ERROR, "任务 {task_id} 的“{label}”未填写。", "请填写“{label}”。"),
    "conditional-missing": Kind(Severity.ERROR, "任务 {task_id} 的状态为“{status}”，须填写“{label}”。", "请填写“{label}”。"),
    "percent-invalid": Kind(Severity.ERROR, "任务 {task_id} 的“{label}”填的“{value}”不是数字。", "请填写 0 到 100 之间的数字，如 80。"),
    "percent-out-of-range": Kind(Severity.ERROR, "任务 {task_id} 的“{label}” {value} 不在 0 到 100 之间。", "请填写 0 到 100 之间的数字。"),
    "done-not-100": Kind(Severity.WARNING, "任务 {task_id} 状态为“{status}”，但“{label}”为 {value}。", "“{status}”的任务进度应为 100，请核对。"),
    "url-invalid": Kind(Severity.WARNING, "任务 {task_id} 的“{label}”看起来不是网址：{value}", "网址应以 http:// 或 https:// 开头；如是材料名称可忽略本提醒。"),
    "phone-invalid": Kind(Severity.WARNING, "“{label}”的号码“{value}”格式不像电话号码。", "请填写固定电话（如 0000-1234567）或 11 位手机号。"),
    "date-invalid": Kind(Severity.WARNING, "“{label}”的日期“{value}”无法识别。", "请按 2018-06-25 的格式填写日期。"),
    "superseded": Kind(Severity.WARNING, "本单位后来又报送了 {newer}，本文件不再使用（{basis}）。", "无需处理；如有误请重新报送正确的文件。"),
    "report-date-implausible": Kind(Severity.WARNING, "“{label}”写的是 {value}，{why}，可能写错了；判断本单位哪份文件更新时没有用它。", "请核对{label}。"),
}


DUPLICATE = "file-duplicate"  # names another name the same file was received under


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (``sheet!cell``, or "" for the whole file), its kind, and the
    fields its message and fix are filled from (task, column label, value, …), kept as data."""

    code: str
    location: str = ""
    fields: dict[str, object] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        return KINDS[self.code]

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def message(self) -> str:
        return self.kind.message.format(**self.fields)

    @property
    def fix(self) -> str:
        return self.kind.fix.format(**self.fields)

    @property
    def place(self) -> str:
        return place(self.location)

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "location": self.location,
                "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Recorded(Finding):
    """A finding as the ledger recorded it, its message and fix as they then read (a ledger
    from before findings kept their fields has nothing else to tell them by)."""

    said: tuple[str, str] = ("", "")  # (message, fix)

    @property
    def message(self) -> str:
        return self.said[0]

    @property
    def fix(self) -> str:
        return self.said[1]


def place(location: str) -> str:
    """A location as a clerk reads it; a finding about the whole file says so."""
    return location or "（整个文件）"


def finding(code: str, location: str = "", **fields: object) -> Finding:
    """A finding of kind ``code`` at ``location``, its message and fix to be filled from ``fields``."""
    return Finding(code, location, fields)


class Described(NamedTuple):
    """A finding as people read it: in a workbook, one column each; as a line, ``str()``."""

    level: str  # 错误 / 提醒
    place: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"【{self.level}】{self.place}：{self.message} 处理建议：{self.fix}"


def describe(item: Finding) -> Described:
    """The one rendering of a finding for people: the terminal, the notices and the workbooks."""
    return Described(item.severity.word, item.place, item.message, item.fix)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)
