"""The listening socket of `serve`, bound before anything is printed or generated.

Binding first means a taken port fails at once, with the setting that changes it, instead of
after the banner has shown a URL and a "shown once" admin token for a server that never ran."""

from __future__ import annotations

import errno
import socket

from hookwire.errors import ConfigError


def bind_listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (handed to uvicorn), or ConfigError naming the fix."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another hookwire, or another program); "
                f"choose another port with --port or HOOKWIRE_PORT, e.g. `hookwire serve --port {port + 1}`"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"not allowed to listen on port {port}; choose a port above 1023 with --port or HOOKWIRE_PORT"
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}; check --host/HOOKWIRE_HOST and "
            "--port/HOOKWIRE_PORT"
        ) from None
    sock.set_inheritable(True)
    return sock
