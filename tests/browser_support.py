"""A live server for browser tests that answers one request at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler


class SerialLiveServerThread(LiveServerThread):
    """A live server answering one request at a time.

    The test database on SQLite is in memory, so the server thread shares the test's single
    connection; concurrent requests (HTMX fires some while a form posts) would interleave on it.
    A non-threaded server also sends `Connection: close`, so the browser never waits on keep-alive.
    """

    server_class = WSGIServer

    def _create_server(self, connections_override: Any = None) -> WSGIServer:
        return WSGIServer(
            (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
        )


@contextmanager
def serial_live_server() -> Iterator[str]:
    """Serve the app on a free port; yields its base URL."""
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()  # type: ignore[attr-defined]
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread = SerialLiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()
