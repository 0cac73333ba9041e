"""The unit registry: codes, names, aliases, groups and how plans refer to them."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegistryError
from .text import cell_string, clean_cell, fold, split_list

UNIT_SHEET = "单位名录"
GROUP_SHEET = "分组"
UNIT_COLUMNS = {
    "code": "单位编码",
    "name": "单位名称",
    "aliases": "别名",
    "groups": "分组",
    "contact": "联系人",
    "phone": "联系电话",
    "email": "邮箱",
}
REQUIRED_UNIT_COLUMNS = ("code", "name")
GROUP_COLUMNS = {"name": "分组名称", "refs": "引用写法"}

# A unit code: it names the unit's files and folders, so only what every file system keeps as typed.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# A bracketed note in a plan reference: (见附件1,下同), (附件2), (下同).
_NOTE = re.compile(r"\((?:见|详见|附件|下同|略)[^()]*\)")
SUGGESTIONS = 3  # registry names offered for a name it does not know
_CLOSE_ENOUGH = 0.6  # difflib ratio from which a spelling counts as a likely slip (市财正局 ~ 市财政局: 0.75)


def reference_key(text: str) -> str:
    """How a name or group reference is matched: folded, without its bracketed note
    (``市有关单位（见附件1，下同）`` -> ``市有关单位``)."""
    return _NOTE.sub("", fold(text))


def abbreviates(short: str, long: str) -> bool:
    """Whether ``short`` reads as an abbreviation of ``long`` (``市发改委`` of ``市发展改革委``).

    Its characters appear in ``long`` in order; both begin alike (the level, 市/区, and the first
    character of the name: ``市林业局`` does not abbreviate ``市农林业局``) and end alike (委/局/办:
    ``市发改委`` does not abbreviate ``市发展改革局``). Width and spaces are ignored.
    """
    short, long = fold(short), fold(long)
    if not 3 <= len(short) < len(long) or short[:2] != long[:2] or short[-1] != long[-1]:
        return False
    rest = iter(long)
    return all(char in rest for char in short)


@dataclass(frozen=True)
class Unit:
    """A responsible unit as the registry defines it."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    contact: str = ""
    phone: str = ""
    email: str = ""  # one or more addresses, "; " between them

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(address for address in self.email.split("; ") if address)


@dataclass(frozen=True)
class Group:
    """A named group of units and the ways a plan may refer to it."""

    name: str
    refs: tuple[str, ...] = ()


@dataclass
class Registry:
    """Units and groups, with lookup from any spelling a plan may use."""

    units: list[Unit]
    groups: list[Group]
    _by_key: dict[str, list[Unit]] = field(init=False, repr=False)
    # The matching key of every spelling, and the name ``suggest`` offers for it.
    _offered: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key, self._offered = {}, {}
        for unit in self.units:
            for spelling in (unit.name, *unit.aliases):
                self._by_key[fold(spelling)] = [unit]
                self._offered.setdefault(fold(spelling), unit.name)
        for group in self.groups:
            members = [unit for unit in self.units if group.name in unit.groups]
            for spelling in (group.name, *group.refs):
                # A 引用写法 copied from the plan with its note matches with or without one.
                self._by_key.setdefault(reference_key(spelling), members)
                self._offered.setdefault(reference_key(spelling), (group.refs or (group.name,))[0])

    def by_code(self) -> dict[str, Unit]:
        return {unit.code: unit for unit in self.units}

    def resolve(self, reference: str) -> list[Unit] | None:
        """The units a plan's name or group reference stands for, or None when unknown.

        Width and spaces are ignored, and so is a bracketed note such as ``(见附件1,下同)``.
        """
        key = fold(reference)
        if key in self._by_key:
            return self._by_key[key]
        return self._by_key.get(reference_key(key))

    def suggest(self, reference: str) -> list[str]:
        """The registry's names closest to a name or group reference it does not know, closest
        first: units and groups one is an abbreviation of the other (``市发改委``, ``市发展改革委``),
        then spellings that differ by a slip (``市财正局``). A unit is offered by its name, a group by
        its first 引用写法; [] when nothing is close."""
        shown = self._offered
        key = reference_key(reference)
        short = [spelling for spelling in shown if abbreviates(key, spelling) or abbreviates(spelling, key)]
        close = difflib.get_close_matches(key, shown, n=SUGGESTIONS, cutoff=_CLOSE_ENOUGH)
        return list(dict.fromkeys(shown[spelling] for spelling in short + close))[:SUGGESTIONS]


def _header_map(rows: list[tuple], labels: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Find the header row among the first rows by its labels; return its index and columns."""
    wanted = {fold(label): key for key, label in labels.items()}
    for index, row in enumerate(rows[:10]):
        found = {}
        for col, value in enumerate(row):
            key = wanted.get(fold(cell_string(value)))
            if key and key not in found:
                found[key] = col
        if len(found) >= 2:
            return index, found
    return -1, {}


def _sheet_rows(workbook, title: str) -> list[tuple] | None:
    for sheet in workbook.worksheets:
        if fold(sheet.title) == fold(title):
            return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    return None


def read_registry(path: Path) -> Registry:
    """Read the registry workbook; raise RegistryError listing every problem found."""
    import openpyxl

    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"找不到单位名录文件：{path}。请用 --units 指定单位名录 .xlsx 文件。")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise RegistryError(
            f"无法打开单位名录 {path.name}：{exc}。请确认它是 Excel .xlsx 文件。"
        ) from exc
    try:
        unit_rows = _sheet_rows(workbook, UNIT_SHEET)
        group_rows = _sheet_rows(workbook, GROUP_SHEET)
    finally:
        workbook.close()
    problems: list[str] = []
    if unit_rows is None:
        problems.append(f"缺少工作表“{UNIT_SHEET}”。请按模板添加该工作表。")
    if group_rows is None:
        problems.append(f"缺少工作表“{GROUP_SHEET}”。请按模板添加该工作表（可只有表头）。")
        group_rows = []
    units = _parse_units(unit_rows, problems) if unit_rows is not None else []
    groups = _parse_groups(group_rows, problems) if group_rows else []
    _check_references(units, groups, problems)
    if problems:
        raise RegistryError(f"单位名录 {path.name} 有 {len(problems)} 处问题，请修改后重新加载：", problems)
    return Registry([unit for _, unit in units], [group for _, group in groups])


def _parse_units(rows: list[tuple], problems: list[str]) -> list[tuple[int, Unit]]:
    """The units with the sheet row each came from."""
    header, cols = _header_map(rows, UNIT_COLUMNS)
    missing = [UNIT_COLUMNS[key] for key in REQUIRED_UNIT_COLUMNS if key not in cols]
    if missing:  # also when no header row was found at all
        problems.append(
            f"{UNIT_SHEET}：找不到表头列 {'、'.join(missing)}。"
            "请在前 10 行内放一行表头，含“单位编码”和“单位名称”。"
        )
        return []
    units, codes, spellings = [], {}, {}
    for index in range(header + 1, len(rows)):
        row, line = rows[index], index + 1

        def get(key: str) -> str:
            col = cols.get(key)
            return cell_string(row[col]) if col is not None and col < len(row) else ""

        code, name = unicodedata.normalize("NFKC", get("code")).strip(), clean_cell(get("name"))
        if not code and not name:
            continue
        where = f"{UNIT_SHEET}!第{line}行"
        problem = _unit_row_problem(code, name, codes)
        if problem:
            problems.append(f"{where}：{problem}")
            continue
        codes[code.casefold()] = (line, code)
        aliases = tuple(alias for alias in split_list(get("aliases")) if alias != fold(name))
        for spelling in (name, *aliases):
            key = fold(spelling)
            if key in spellings and spellings[key][0] != code:
                other_code, other_line = spellings[key]
                kind = "单位名称" if spelling == name else "别名"
                problems.append(
                    f"{where}：{kind}“{spelling}”与第{other_line}行单位（{other_code}）的名称或别名重复。"
                    "一个名称只能指一个单位，请删去或改写其中一个。"
                )
            spellings[key] = (code, line)
        email, bad = _addresses(get("email"))
        if bad:
            problems.append(f"{where}：邮箱“{bad}”不是有效的邮箱地址。请写成 name@example.gov.cn 的样子，"
                            "多个地址之间用“;”分隔。")
        unit = Unit(
            code=code,
            name=name,
            aliases=aliases,
            groups=tuple(split_list(get("groups"))),
            contact=get("contact"),
            phone=get("phone"),
            email=email,
        )
        units.append((line, unit))
    return units


# An address mail programs accept: ASCII, one @, a domain with a dot.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def email_address(text: str) -> str | None:
    """``text`` as one e-mail address (full-width forms folded, spaces dropped), or None when it is none."""
    address = fold(text)
    return address if _EMAIL.fullmatch(address) else None


def _addresses(cell: str) -> tuple[str, str | None]:
    """The 邮箱 cell as ``a@x.cn; b@y.cn`` (full-width forms folded), and the first part that is no address."""
    parts = split_list(cell)
    bad = next((part for part in parts if not email_address(part)), None)
    return "; ".join(parts), bad


def _unit_row_problem(code: str, name: str, codes: dict[str, tuple[int, str]]) -> str | None:
    """What keeps a registry row from being a unit: a missing or malformed code, a missing name, a
    code used before (``codes``: case-folded code -> row and code as written)."""
    if not code:
        return f"单位“{name}”没有单位编码。请填写唯一的单位编码。"
    if not _CODE.fullmatch(code):
        return (f"单位编码“{code}”不能使用。单位编码只能由英文字母、数字、“-”和“_”组成，最多 32 个字符，"
                "例如 S001。请改写。")
    if not name:
        return f"单位编码“{code}”没有单位名称。请填写计划中使用的单位名称。"
    if code.casefold() in codes:
        # Windows and macOS file names ignore case: S001's files and s001's would be one.
        line, used = codes[code.casefold()]
        same = "" if used == code else f"“{used}”，大小写不同也算同一编码"
        return f"单位编码“{code}”重复（第{line}行已使用{same}）。请改为唯一编码。"
    return None


def _parse_groups(rows: list[tuple], problems: list[str]) -> list[tuple[int, Group]]:
    """The groups with the sheet row each came from."""
    header, cols = _header_map(rows, GROUP_COLUMNS)
    if header < 0 or "name" not in cols:
        problems.append(f"{GROUP_SHEET}：找不到表头“分组名称”“引用写法”。请在前 10 行内放一行表头。")
        return []
    groups, seen = [], {}
    for index in range(header + 1, len(rows)):
        row, line = rows[index], index + 1
        name = fold(cell_string(row[cols["name"]])) if cols["name"] < len(row) else ""
        refs_col = cols.get("refs")
        refs = split_list(row[refs_col]) if refs_col is not None and refs_col < len(row) else []
        if not name:
            if refs:
                problems.append(f"{GROUP_SHEET}!第{line}行：有引用写法但没有分组名称。请填写分组名称。")
            continue
        if name in seen:
            problems.append(f"{GROUP_SHEET}!第{line}行：分组名称“{name}”重复（第{seen[name]}行已定义）。")
            continue
        seen[name] = line
        groups.append((line, Group(name=name, refs=tuple(refs))))
    return groups


def _check_references(
    units: list[tuple[int, Unit]], groups: list[tuple[int, Group]], problems: list[str]
) -> None:
    defined = {group.name for _, group in groups}
    for line, unit in units:
        for name in unit.groups:
            if name not in defined:
                problems.append(
                    f"{UNIT_SHEET}!第{line}行：单位“{unit.name}”（{unit.code}）属于分组“{name}”，"
                    f"但工作表“{GROUP_SHEET}”没有定义它。请在“{GROUP_SHEET}”中添加该分组。"
                )
    unit_keys = {fold(spelling) for _, unit in units for spelling in (unit.name, *unit.aliases)}
    used = {}
    for line, group in groups:
        where = f"{GROUP_SHEET}!第{line}行"
        for ref in (group.name, *group.refs):
            key = fold(ref)
            if key in unit_keys:
                problems.append(f"{where}：分组“{group.name}”的引用写法“{ref}”与某个单位的名称或别名相同。")
            elif key in used and used[key] != group.name:
                problems.append(f"{where}：引用写法“{ref}”同时属于分组“{used[key]}”和“{group.name}”。")
            used[key] = group.name
