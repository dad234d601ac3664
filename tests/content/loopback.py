"""A real HTTP server on 127.0.0.1 for the fetch tests: pages, redirects, feeds, slow and
huge answers. It records every request it receives (path and headers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class LoopbackSite:
    def __init__(self, port: int = 0):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                if route.handler is not None:
                    route.handler(self)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in route.headers:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.hostport = f"127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackSite:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def page(self, path: str, html: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200):
        body = html.encode() if isinstance(html, str) else html
        self.routes[path] = Route(status=status, body=body, headers={"Content-Type": content_type})

    def redirect(self, path: str, location: str, status: int = 302):
        self.routes[path] = Route(status=status, headers={"Location": location})

    def handler(self, path: str, handler: Callable[[BaseHTTPRequestHandler], None]):
        self.routes[path] = Route(handler=handler)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class Trickle:
    """Answer at once, then send the body one small piece every `interval` until the client
    hangs up (or `limit` seconds, a safety net far past any deadline under test).

    `hung_up` is set when the client closed the connection: the fetch gave up, not the server."""

    def __init__(self, interval: float = 0.2, limit: float = 30.0):
        self.interval, self.limit = interval, limit
        self.hung_up = threading.Event()

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.end_headers()
        stop = threading.Event()
        try:
            for _ in range(int(self.limit / self.interval)):
                request.wfile.write(b"<p>.</p>")
                request.wfile.flush()
                stop.wait(self.interval)
        except OSError:
            self.hung_up.set()  # the client gave up, as it should


class Silent:
    """Accept the request and say nothing until `release()` (or `limit` seconds, a safety net).

    `answered` is set once the server has said anything: a fetch cut off at its deadline
    gave up before that."""

    def __init__(self, limit: float = 30.0):
        self.limit = limit
        self.answered = threading.Event()
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        self._release.wait(self.limit)
        self.answered.set()


class Endless:
    """A body without a length that never ends (until the client hangs up, or `limit` chunks).

    `sent` counts the bytes written; `hung_up` is set when the client closed the connection."""

    def __init__(self, chunk: bytes = b"x" * 65536, limit: int = 10_000):
        self.chunk, self.limit = chunk, limit
        self.sent = 0
        self.hung_up = threading.Event()

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.end_headers()
        try:
            for _ in range(self.limit):
                request.wfile.write(self.chunk)
                self.sent += len(self.chunk)
        except OSError:
            self.hung_up.set()
