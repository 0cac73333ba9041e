"""The console as a web application (Flask): the pages, the JSON API, and the rules every
request passes.

Safe by default: only the addresses the console listens on are accepted as the request's host
(a page of another site cannot reach it through a name of its own); when it listens on another
address than the loopback one, every request carries the access token printed at start; a
request that changes something and comes from a web page must come from the console's own
pages (``_from_console``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import itertools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request, send_file
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.security import safe_join

from .. import cycle, faults
from ..collect import recorded
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
MAX_UPLOAD_BYTES = Limits().max_bytes * 5  # one file: a container's limit in collect
MAX_REQUEST_BYTES = 2 * MAX_UPLOAD_BYTES
TOKEN_COOKIE = "pipeline_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
        """Accept the names of the address the console listens on."""
        names = {"127.0.0.1", "localhost", "[::1]"} if host in ("127.0.0.1", "localhost", "::1") else {host}
        self.hosts = {f"{name if ':' not in name else f'[{name}]'}:{port}" for name in names}


class Refused(PipelineError):
    """A request the console's rules do not let through."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def create_app(console: Console) -> Flask:
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
        return _error(f"上传的文件太大：一次最多 {size_words(app.config['MAX_CONTENT_LENGTH'])}，每个文件最多 "
                      f"{size_words(console.max_upload_bytes)}。请分几次上传。", 413)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        words = {404: "找不到这个页面或文件。", 405: "不支持这种请求方式。"}
        return _error(words.get(exc.code, exc.description or "请求有误。"), exc.code or 400)

    @app.errorhandler(Exception)
    def fault(exc: Exception):
        return _error(faults.explain(exc, workspace.root), 500)

    # -- pages
    @app.get("/")
    def home():
        """The board of the latest month the workspace has something for (else this month)."""
        known = views.periods(workspace)
        return month(known[-1] if known else dt.date.today().strftime("%Y-%m"))

    @app.get("/periods/<period>")
    def month(period: str):
        period = _period(period)
        if views.current_plan(workspace) is None:
            return render_template("start.html", workspace=workspace.root.resolve())
        board = views.board(workspace, period)
        page_data = {"units": {row.unit.code: row.unit.name for row in board.rows},
                     "statuses": {status.value: status.word for status in FileStatus}}
        return render_template("board.html", board=board, actions=ACTIONS, running=console.jobs.running,
                               page_data=page_data)

    @app.get("/periods/<period>/units/<code>")
    def unit(period: str, code: str):
        page = views.unit_page(workspace, _period(period), code)
        if page is None:
            abort(404)
        return render_template("unit.html", page=page, periods=views.periods(workspace))

    @app.get("/plan")
    def plan():
        current = views.current_plan(workspace)
        if current is None:
            return render_template("start.html", workspace=workspace.root.resolve())
        return render_template("plan.html", plan=current, rows=views.plan_rows(current),
                               periods=views.periods(workspace))

    @app.get("/periods/<period>/outputs/<path:name>")
    def output(period: str, name: str):
        period = _period(period)
        folder = workspace.period_output(period)
        found = safe_join(str(folder), name)
        if found is None or not Path(found).exists():
            abort(404)
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
        received = request.files.getlist("file")
        if not received:
            raise InputError("没有收到文件：请选择要上传的文件（表单字段 file）。")
        if len(received) > console.max_upload_files:
            return _error(f"一次最多上传 {console.max_upload_files} 个文件，这次有 {len(received)} 个。请分几次上传。", 413)
        files = [(item.filename or "", item.read()) for item in received]
        for name, data in files:
            if len(data) > console.max_upload_bytes:
                return _error(f"{name} 太大（{size_words(len(data))}），每个文件最多 "
                              f"{size_words(console.max_upload_bytes)}。", 413)

        def receive(progress):
            stored = [store_upload(workspace.input_dir / period, name, data).name for name, data in files]
            try:
                return stored, cycle.collect_period(workspace, period, None, progress)
            except WorkspaceError as exc:
                raise WorkspaceError(f"{exc}\n文件已放入 input/{period}/，稍后点“合并汇总”即可收取检查。") from exc

        stored, run = console.jobs.now("收取文件", period, receive)
        hashes = {hashlib.sha256(data).hexdigest() for _, data in files}
        inside = tuple(f"{name}{SEPARATOR}" for name in stored)
        return jsonify({"files": [o.to_json() for o in run.result.files
                                  if o.sha256 in hashes or o.file.startswith(inside)]})

    @app.post("/api/periods/<period>/actions/<name>")
    def act(period: str, name: str):
        period = _period(period)
        if name not in ACTIONS:
            abort(404)
        return jsonify(console.jobs.start(name, period).to_json()), 202

    @app.get("/api/jobs/current")
    def current_job():
        if console.jobs.running is None:
            abort(404)
        return jsonify(console.jobs.running.to_json())

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
    own. A browser names the page's origin in Origin (on every cross-site POST), else in
    Referer, and says where a request comes from in Sec-Fetch-Site; a request with none of
    them is not from a web page (a script on this computer, using the API)."""
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
    return True


def _error(message: str, status: int):
    """An error as JSON for the API and as a page otherwise, in Chinese, never a traceback."""
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), status
    return render_template("error.html", message=message, status=status), status


def store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Put an uploaded file into ``folder`` under its own name (the last part of what the browser
    sent, made safe), never over another file: a clashing name gets ``（2）``, ``（3）``…"""
    base = safe_file_name(name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, suffix = Path(base).stem, Path(base).suffix
    folder.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        path = folder / (base if number == 1 else fitted_file_name("", stem, f"（{number}）{suffix}"))
        try:
            out = open(path, "xb")
        except FileExistsError:
            continue
        try:
            with out:
                out.write(data)
        except OSError:  # a full disk: no half file is left to be collected
            path.unlink(missing_ok=True)
            raise
        return path

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

