"""Ports for servers the tests start.

A port taken from the kernel with bind(0) and closed again can be handed out
at once to the next bind(0) or to an outgoing connection, so a server started
on it a moment later finds it in use. Ports below the kernel's ephemeral range
(32768-60999 by default) are never handed out that way; these come from below
it, each one once per test process.
"""

import itertools
import os
import socket

_START = 20000 + (os.getpid() % 200) * 50
_candidates = itertools.count(_START)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and no other test got."""
    for port in _candidates:
        if port >= 32768:
            break
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left below the ephemeral range")
