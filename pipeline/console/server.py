"""``pipeline serve``: the console on a local address until Ctrl-C."""

from __future__ import annotations

import errno
import ipaddress
import logging
import secrets
import threading
import webbrowser
from typing import Callable

from werkzeug.serving import make_server

from ..errors import InputError
from ..workspace import Workspace
from .app import Console, create_app

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(workspace: Workspace, host: str, port: int, open_browser: bool, say: Callable[[str], None]) -> None:
    """Serve the console for ``workspace`` on ``host:port`` until Ctrl-C, then wait for the
    operation it runs, if any. Another address than the loopback one gets an access token."""
    console = Console(workspace, access_token=None if is_loopback(host) else secrets.token_urlsafe(18))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the clerk's window
    try:
        server = make_server(host, port, create_app(console), threaded=True)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise InputError(f"端口 {port} 已被占用：控制台可能已经在运行（请直接在浏览器中打开 "
                             f"http://{LOOPBACK if is_loopback(host) else host}:{port}/ ），"
                             f"或用 --port 换一个端口。") from exc
        raise InputError(f"无法在 {host}:{port} 上启动控制台：{exc.strerror or exc}。请检查 --host 和 --port。") from exc
    console.listening(host, server.port)
    shown = LOOPBACK if is_loopback(host) else host
    url = f"http://{shown}:{server.port}/" + (f"?token={console.access_token}" if console.access_token else "")
    say(f"报送控制台已启动，工作区：{workspace.root.resolve()}")
    say(f"请在浏览器中打开：{url}")
    if console.access_token:
        say(f"控制台对其他电脑开放（{host}）：打开时必须使用上面含访问令牌的完整地址，请勿外传。")
    say("关闭本窗口或按 Ctrl+C 即可停止控制台。")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        running = console.jobs.running
        if running is not None:
            say(f"正在等待“{running.word}”完成…")
            console.jobs.wait()
        say("控制台已停止。")
