"""Ready-to-send mail drafts (``.eml``, RFC 5322) addressed from the registry's 邮箱 column.

Outlook, Foxmail and Thunderbird open such a file as a message to send; nothing is sent from
here. Who gets a mail is decided by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path

from .atomic import replacing
from .documents import Letterhead
from .units import Unit
from .workspace import unit_file_name

MAIL_FOLDER = "邮件"


@dataclass(frozen=True)
class Draft:
    """One mail to one unit."""

    unit_code: str
    unit_name: str
    to: tuple[str, ...]  # the addresses; none when the registry has none
    subject: str
    body: str
    attachments: tuple[Path, ...] = ()


def message(draft: Draft, sender: str, sender_name: str, date: dt.datetime) -> EmailMessage:
    """The draft as a standard message; its Message-ID is made from its content (determinism)."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = ", ".join(formataddr((draft.unit_name, address)) for address in draft.to)
    mail["Subject"] = draft.subject
    mail["Date"] = format_datetime(date.astimezone() if date.tzinfo is None else date)
    mail["X-Unsent"] = "1"  # Outlook opens the file as a message to send
    mail.set_content(draft.body)
    digest = hashlib.sha256(f"{draft.to}\n{draft.subject}\n{draft.body}".encode())
    for path in draft.attachments:
        data = path.read_bytes()
        digest.update(data)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    domain = sender.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{digest.hexdigest()[:32]}@{domain}>"
    mail.set_boundary(f"=_{digest.hexdigest()[:40]}")  # "=_" is never in base64 text
    return mail


def write_drafts(folder: Path, kind: str, drafts: list[Draft], sender: str, sender_name: str,
                 date: dt.datetime) -> list[Draft]:
    """One ``.eml`` per draft with an address into ``folder``; returns the drafts that have no
    address, for the clerk."""
    written = {}
    for draft in drafts:
        if draft.to:
            written[unit_file_name(draft.unit_code, draft.unit_name, f"{kind}.eml")] = draft
    folder.mkdir(parents=True, exist_ok=True)
    for name, draft in written.items():
        with replacing(folder / name, "邮件程序") as temp:
            temp.write_bytes(message(draft, sender, sender_name, date).as_bytes())
    return [draft for draft in drafts if not draft.to]


def cover_mail(head: Letterhead, unit: Unit, attachments: tuple[Path, ...]) -> Draft:
    """下发: the unit's workbook and the cover note."""
    return Draft(unit.code, unit.name, unit.addresses,
                 f"{head.plan_title}{head.month_words}进展填报表（{unit.name}）",
                 f"{unit.name}：\n\n附件是贵单位{head.month_words}的进展填报表和下发通知，请于{head.context()['deadline']}前"
                 f"填报，并回复本邮件报送。\n\n{_sign(head)}", attachments)


def remind_mail(head: Letterhead, unit: Unit, state: str, attachments: tuple[Path, ...]) -> Draft:
    """催报: the notice, and the unit's workbook again."""
    return Draft(unit.code, unit.name, unit.addresses, f"【催报】{head.plan_title}{head.month_words}进展（{unit.name}）",
                 f"{unit.name}：\n\n贵单位{state}。请见附件中的催报通知，尽快填报后回复本邮件报送。\n\n{_sign(head)}",
                 attachments)


def return_mail(head: Letterhead, unit: Unit, file_name: str, attachments: tuple[Path, ...]) -> Draft:
    """退回: the notice saying what to fix, where."""
    return Draft(unit.code, unit.name, unit.addresses, f"【退回修改】{head.plan_title}{head.month_words}进展（{unit.name}）",
                 f"{unit.name}：\n\n贵单位报送的 {file_name} 经检查需要修改，问题和修改要求见附件中的退回通知。"
                 f"请改正后回复本邮件重新报送。\n\n{_sign(head)}", attachments)


def _sign(head: Letterhead) -> str:
    return f"{head.office}\n联系人：{head.contact}  电话：{head.phone}"
