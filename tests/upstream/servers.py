"""A tiny HTTP server on a loopback port: it answers every request with the same bytes, at a pace."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def http_answer(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def _read_request(connection: socket.socket) -> None:
    """Read the whole request, so that closing afterwards sends no reset over the answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return
        body += chunk


@contextmanager
def answering(answer: bytes, *, at_once: int | None = None, byte_every: float = 0.0) -> Iterator[str]:
    """Serve `answer`: the first `at_once` bytes (all by default) straight away, the rest one byte
    every `byte_every` seconds. Yields the statuses URL."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)

    def serve(connection: socket.socket) -> None:
        with connection:
            _read_request(connection)
            head, rest = answer[:at_once], answer[len(answer) if at_once is None else at_once :]
            try:
                connection.sendall(head)
                for byte in rest:
                    if stop.wait(byte_every):
                        return
                    connection.sendall(bytes([byte]))
                stop.wait(5)  # keep the socket open: the client decides when it has had enough
            except OSError:  # the client gave up and closed its end
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/jobs/statuses"
    finally:
        stop.set()
        acceptor.join(timeout=5)
        server.close()
