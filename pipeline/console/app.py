"""The console as a web application (Flask): the pages, the JSON API, and the rules every
request passes.

Safe by default: only the addresses the console listens on are accepted as the request's host
(a page of another site cannot reach it through a name of its own); when it listens on another
address than the loopback one, every request carries the access token printed at start; a
request that changes something and comes from a web page must come from the console's own
pages (``_from_console``).
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import itertools
import os
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.security import safe_join

from .. import cycle, faults
from ..collect import received, recorded
from ..containers import SEPARATOR
from ..errors import InputError, PeriodError, PipelineError, WorkspaceError
from ..findings import FileStatus
from ..periods import check_period
from ..readers import Limits, size_words
from ..workspace import Workspace, fitted_file_name, safe_file_name
from . import views
from .jobs import ACTIONS, Jobs

# What one upload may bring: as many files, each as large, as a mailbox delivers for a month.
MAX_UPLOAD_FILES = 100
MAX_UPLOAD_BYTES = Limits().max_container_bytes  # one file: what collect takes at most
MAX_REQUEST_BYTES = 2 * MAX_UPLOAD_BYTES
TOKEN_COOKIE = "pipeline_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_SUFFIX = 8  # longer, what follows the last dot is part of the name, not its type (.xlsx, .docx)


@dataclass
class Console:
    """The console's state: its workspace, its operations, its tokens and where it listens."""

    workspace: Workspace
    access_token: str | None = None  # required on every request when not on the loopback address
    hosts: set[str] = field(default_factory=set)  # Host headers accepted ("127.0.0.1:8765")
    jobs: Jobs = field(init=False)
    max_upload_files: int = MAX_UPLOAD_FILES
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    def __post_init__(self) -> None:
        self.jobs = Jobs(self.workspace)

    def listening(self, host: str, port: int) -> None:
        """Accept the names of the address the console listens on (each name of this computer's
        own address when it is the loopback one)."""
        names = {"127.0.0.1", "localhost", "::1"} if is_loopback(host) else {host}
        self.hosts = {f"[{name}]:{port}" if ":" in name else f"{name}:{port}" for name in names}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer's own address, which no other computer reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Refused(PipelineError):
    """A request the console's rules do not let through."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def create_app(console: Console) -> Flask:
    """The console's web application: its pages, downloads and JSON API, behind its rules."""
    app = Flask(__name__)
    # Files are counted by the upload itself, which says how many it may take; far more parts are
    # refused before they are parsed.
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, MAX_FORM_PARTS=10 * console.max_upload_files,
                      TEMPLATES_AUTO_RELOAD=False)
    app.json.sort_keys = False  # the collect --json document, key for key
    app.json.ensure_ascii = False
    app.jinja_env.globals.update(FileStatus=FileStatus, BoardState=views.BoardState)
    workspace = console.workspace

    @app.before_request
    def admit() -> None:
        if console.access_token is None:
            if request.host not in console.hosts:
                raise Refused("拒绝访问：请用控制台启动时显示的地址打开。", 403)
        elif not _has_access_token(console.access_token):
            raise Refused("需要访问令牌：请使用控制台启动时显示的完整地址（含 token=…）打开。", 401)
        if request.method not in SAFE_METHODS and not _from_console():
            raise Refused("拒绝：这个请求不是从本控制台的页面发出的。", 403)

    @app.after_request
    def remember_token(response: Response) -> Response:
        if console.access_token and request.args.get("token") == console.access_token:
            response.set_cookie(TOKEN_COOKIE, console.access_token, httponly=True, samesite="Strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(PipelineError)
    def pipeline_error(exc: PipelineError):
        status = exc.status if isinstance(exc, Refused) else 409 if isinstance(exc, WorkspaceError) else 400
        return _error(str(exc), status)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        return _error(f"上传的文件太大或太多：一次最多 {size_words(app.config['MAX_CONTENT_LENGTH'])}、"
                      f"{console.max_upload_files} 个文件，每个文件最多 {size_words(console.max_upload_bytes)}。"
                      "请分几次上传。", 413)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        words = {404: "找不到这个页面或文件。", 405: "不支持这种请求方式。"}
        return _error(words.get(exc.code, f"请求没有完成（HTTP {exc.code}）。"), exc.code or 400)

    @app.errorhandler(Exception)
    def fault(exc: Exception):
        return _error(faults.explain(exc, workspace.root), 500)

    # -- pages
    @app.get("/")
    def home():
        """The board of the latest month the workspace has something for (else this month)."""
        return board_page(None)

    @app.get("/periods")
    def chosen():
        """The month chosen on a page (``?period=2018-08``): its board."""
        return redirect(url_for("month", period=check_period(request.args.get("period", ""))))

    @app.get("/periods/<period>")
    def month(period: str):
        return board_page(_period(period))

    def board_page(period: str | None):
        board = views.board(workspace, period)
        if board is None:
            return render_template("start.html", workspace=workspace.root.resolve())
        page_data = {"units": {row.unit.code: row.unit.name for row in board.rows},
                     "statuses": {status.value: status.word for status in FileStatus}}
        return render_template("board.html", board=board, actions=ACTIONS, running=console.jobs.running,
                               page_data=page_data)

    @app.get("/periods/<period>/units/<code>")
    def unit(period: str, code: str):
        page = views.unit_page(workspace, _period(period), code)
        if page is None:
            abort(404)
        return render_template("unit.html", page=page)

    @app.get("/plan")
    def plan():
        with views.reading(workspace) as ledger:
            current, known = ledger.plan(), views.periods(workspace, ledger)
        if current is None:
            return render_template("start.html", workspace=workspace.root.resolve())
        return render_template("plan.html", plan=current, rows=views.plan_rows(current),
                               periods=known, breakdown=views.breakdown(workspace))

    @app.get("/plan/breakdown")
    def breakdown():
        path = views.breakdown(workspace)
        if path is None:
            abort(404)
        return send_file(path, as_attachment=True, download_name=path.name)

    @app.get("/periods/<period>/outputs/<path:name>")
    def output(period: str, name: str):
        period = _period(period)
        folder = workspace.period_output(period)
        found = safe_join(str(folder), name)
        if (found is None or not Path(found).exists() or Path(found) == folder
                or any(part.startswith(".") for part in Path(name).parts)):
            abort(404)  # outside the month's folder, the folder itself, or a command's staging folder
        path = Path(found)
        if path.is_file():
            return send_file(path, as_attachment=True, download_name=path.name)
        return send_file(io.BytesIO(_zipped(path, period)), mimetype="application/zip", as_attachment=True,
                         download_name=f"{period}_{path.name}.zip")

    # -- the JSON API
    @app.get("/api/periods/<period>")
    def period_result(period: str):
        period = _period(period)
        with views.reading(workspace) as ledger:
            return jsonify(recorded(ledger, period, cycle.plan_for(ledger, period)).to_json())

    @app.post("/api/periods/<period>/files")
    def upload(period: str):
        period = _period(period)
        sent = request.files.getlist("file")
        if not sent:
            raise InputError("没有收到文件：请选择要上传的文件（表单字段 file）。")
        if len(sent) > console.max_upload_files:
            return _error(f"一次最多上传 {console.max_upload_files} 个文件，这次有 {len(sent)} 个。请分几次上传。", 413)
        files = [(item.filename or "", item.read()) for item in sent]
        for name, data in files:
            if len(data) > console.max_upload_bytes:
                return _error(f"{name} 太大（{size_words(len(data))}），每个文件最多 "
                              f"{size_words(console.max_upload_bytes)}。", 413)
        kept, skipped = [], []
        for name, data in files:
            if received(upload_name(name)):
                kept.append((name, data))
            else:
                skipped.append({"file": name, "message": f"{name} 是 Excel、WPS 或系统自动生成的文件（如打开文件时留下的 ~$ "
                                                         "临时文件），不是单位报送的文件，没有收取。"})
        stored = store_uploads(workspace.input_dir / period, kept)
        document = {"files": []}
        if stored:
            try:
                run = console.jobs.now("收取文件", period,
                                       lambda progress: cycle.collect_period(workspace, period, None, progress))
            except WorkspaceError as exc:
                raise WorkspaceError(f"{exc}\n文件已放入 input/{period}/（{'、'.join(stored)}），稍后点“合并汇总”"
                                     "即可收取检查。") from exc
            document["files"] = [o.to_json() for o in run.result.files
                                 if any(_stored_as(name, stored) for name in (o.file, *o.copies))]
        if skipped:
            document["skipped"] = skipped
        return jsonify(document)

    @app.post("/api/periods/<period>/actions/<name>")
    def act(period: str, name: str):
        period = _period(period)
        if name not in ACTIONS:
            abort(404)
        return jsonify(console.jobs.start(name, period).to_json()), 202

    @app.get("/api/jobs/current")
    def current_job():
        """The operation running now, or null."""
        running = console.jobs.running
        return jsonify(running.to_json() if running else None)

    @app.get("/api/jobs/<int:number>")
    def job(number: int):
        found = console.jobs.jobs.get(number)
        if found is None:
            abort(404)
        return jsonify(found.to_json())

    return app


def _period(period: str) -> str:
    """The month of a URL, as the commands write it; a PeriodError (400) when it is none."""
    checked = check_period(period)
    if checked != period:
        raise PeriodError(f"报送期应写作 {checked}。")
    return checked


def _has_access_token(token: str) -> bool:
    given = (request.args.get("token") or request.headers.get("X-Access-Token")
             or request.cookies.get(TOKEN_COOKIE) or "")
    return hmac.compare_digest(given.encode(), token.encode())


def _from_console() -> bool:
    """Whether a request that changes something may: from a web page, only from the console's
    own. A browser says where a request comes from in Sec-Fetch-Site, names the page's origin in
    Origin (on every cross-site POST) and its address in Referer. A request with none of them is
    taken for a script on this computer using the API, when it is one a form cannot make (old
    browsers send a form of another site without Origin, and a form always sends a body): an
    operation asked for with no body, or files sent to the upload address."""
    own = f"{request.scheme}://{request.host}"
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin:
        return origin == own
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == own
    return not request.mimetype or (request.endpoint == "upload" and request.mimetype == "multipart/form-data")


def _error(message: str, status: int):
    """An error as JSON for the API and as a page otherwise, in Chinese, never a traceback."""
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), status
    return render_template("error.html", message=message, status=status), status


def upload_name(name: str) -> str:
    """The name an uploaded file is stored under: the last part of what the browser sent (a
    browser may send a whole path), made safe."""
    stem, suffix = os.path.splitext(name.replace("\\", "/").rsplit("/", 1)[-1])
    return fitted_file_name("", stem, suffix) if len(suffix) <= MAX_SUFFIX else safe_file_name(stem + suffix)


def store_uploads(folder: Path, files: list[tuple[str, bytes]]) -> list[str]:
    """Store every uploaded file, or (a full disk) none of them: the names they were stored under."""
    stored: list[Path] = []
    try:
        for name, data in files:
            stored.append(store_upload(folder, name, data))
    except OSError:
        for path in stored:
            path.unlink(missing_ok=True)
        raise
    return [path.name for path in stored]


def store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Put an uploaded file into ``folder`` under its ``upload_name``, never over another file
    (a clashing name gets ``（2）``, ``（3）``…). It is written whole under a hidden name first,
    which a collect running meanwhile does not take, then given its own."""
    base = upload_name(name)
    stem, suffix = Path(base).stem, Path(base).suffix
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".上传中-{secrets.token_hex(6)}{suffix}"
    try:
        temp.write_bytes(data)
        for number in itertools.count(1):
            path = folder / fitted_file_name("", stem, f"（{number}）{suffix}" if number > 1 else suffix)
            try:
                _claim(temp, path)
                return path
            except FileExistsError:
                continue
    finally:
        temp.unlink(missing_ok=True)


def _claim(temp: Path, path: Path) -> None:
    """Give the file ``temp`` the name ``path``, a FileExistsError when a file has it."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system (FAT): a rename, which Windows never lets overwrite
        if path.exists():
            raise FileExistsError(path) from None
        os.rename(temp, path)


def _stored_as(name: str, stored: list[str]) -> bool:
    """Whether a result's file name is a stored upload, or a file inside one (``outer › inner``)."""
    return name in stored or any(name.startswith(f"{outer}{SEPARATOR}") for outer in stored)


def _zipped(folder: Path, period: str) -> bytes:
    """A folder of outputs as one zip, its members in name order, dated the first of the month."""
    stamp = (*map(int, period.split("-")), 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()

