#!/usr/bin/env python3
"""gantry's local AWS emulator: moto's server plus gantry's extensions.

Run it through ``e2e/emulator/run`` (which prepares the pinned venv first):

    e2e/emulator/run [--port N] [--quiet]

It serves on 127.0.0.1 only (never another interface), port 4566 by default;
``--port 0`` picks a free port. When it is ready to take requests it prints
exactly one line on stdout:

    emulator listening on http://127.0.0.1:PORT

and it stops cleanly on SIGINT or SIGTERM (exit status 0). Request logs and
moto's warnings go to stderr; ``--quiet`` drops the request logs.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

HOST = "127.0.0.1"
DEFAULT_PORT = 4566


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="e2e/emulator/run",
        description="gantry's local AWS emulator (moto's server with gantry's extensions) on 127.0.0.1.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request on stderr")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: must be 0..65535")
    return args


class OneAtATime:
    """A WSGI app that lets the wrapped one serve one request at a time.

    moto's backends are not thread-safe: under many clients at once (the
    fleet benchmark's twenty rollouts) a stack's IAM role failed with
    "dictionary changed size during iteration" while another request
    changed moto's state. Python's GIL lets only one request run at a time
    anyway, so serialising them costs nothing measurable; the answer is
    made in full under the lock. Requests signed for SQS are let through
    unlocked: ReceiveMessage may wait (long polling) and must not stop the
    rest.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if "/sqs/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            return self.app(environ, start_response)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING if args.quiet else logging.INFO)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gantry_emulator

    # Before the server exists, so before its first request.
    gantry_emulator.install()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    try:
        server = make_server(HOST, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as e:
        print(f"emulator: cannot listen on {HOST}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    port = server.server_port
    # moto builds some URLs (SQS queue URLs, S3 presigned URLs) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    thread.start()
    print(f"emulator listening on http://{HOST}:{port}", flush=True)
    while not stop.wait(0.5):
        if not thread.is_alive():
            print("emulator: server stopped unexpectedly", file=sys.stderr)
            return 1
    server.shutdown()
    server.server_close()
    print("emulator: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
