"""An HTTP server that answers like a broken or hostile AnkiConnect: the one mock the tests
use, for faults a real Anki cannot be made to produce (an answer of the wrong shape, truncated
JSON, a reply that never comes). `answer(body) -> bytes` decides each reply; a float delays it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], bytes | float]


class BrokenAnki:
    def __init__(self, answer: Answer):
        self._answer = answer
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = outer._answer(json.loads(body))
                if isinstance(reply, float):
                    time.sleep(reply)
                    reply = b'{"result": null, "error": null}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError):  # the client gave up waiting
                    self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def reply(result: Any = None, error: str | None = None) -> bytes:
    return json.dumps({"result": result, "error": error}).encode()
