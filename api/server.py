"""The listening socket every statesim server serves on (``statesim serve`` and the pytest plugin)."""
from __future__ import annotations

import socket


def listen(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port) and already listening.

    Connections queue from the moment this returns, so an endpoint printed afterwards never
    refuses one. Accepted connections inherit TCP_NODELAY: without it, uvicorn's separate
    header and body writes meet the client's delayed ACK and every call costs ~40 ms.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock
