"""``pipeline serve``: the console on a local address until Ctrl-C."""

from __future__ import annotations

import errno
import logging
import os
import secrets
import socket
import threading
import webbrowser
from typing import Callable

from werkzeug.serving import make_server

from ..errors import InputError
from ..workspace import Workspace
from .app import Console, create_app, is_loopback

LOOPBACK = "127.0.0.1"


def shown_address(host: str) -> str:
    """The address to open in a browser on this computer for a console listening on ``host``."""
    if host in ("localhost", "0.0.0.0"):
        return LOOPBACK
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def bound(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or an InputError saying why there is none."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    if os.name != "nt":  # a console started again takes its port back at once (on Windows this would share it)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(64)
    except OSError as exc:
        listener.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)):
            raise InputError(f"端口 {port} 已被占用：控制台可能已经在运行（请直接在浏览器中打开 "
                             f"http://{shown_address(host)}:{port}/ ），"
                             f"或用 --port 换一个端口。") from exc
        raise InputError(f"无法在 {host}:{port} 上启动控制台：{exc.strerror or exc}。请检查 --host 和 --port。") from exc
    return listener


def serve(workspace: Workspace, host: str, port: int, open_browser: bool, say: Callable[[str], None]) -> None:
    """Serve the console for ``workspace`` on ``host:port`` until Ctrl-C, then wait for the
    operation it runs, if any. Another address than the loopback one gets an access token."""
    console = Console(workspace, access_token=None if is_loopback(host) else secrets.token_urlsafe(18))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the clerk's window
    with bound(host, port) as listener:  # bound here, not by werkzeug, whose refusal is in English and exits
        server = make_server(host, port, create_app(console), threaded=True, fd=listener.fileno())
    console.listening(host, server.port)
    shown = shown_address(host)
    url = f"http://{shown}:{server.port}/" + (f"?token={console.access_token}" if console.access_token else "")
    say(f"报送控制台已启动，工作区：{workspace.root.resolve()}")
    say(f"请在浏览器中打开：{url}")
    if console.access_token:
        say(f"控制台对其他电脑开放（{host}）：打开时必须使用上面含访问令牌的完整地址（其他电脑上把 {shown} "
            f"换成本机的地址），请勿外传。")
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
            say(f"正在等待“{running.word}”结束…")
            console.jobs.wait()
            if running.message:
                say(running.message)
        say("控制台已停止。")
