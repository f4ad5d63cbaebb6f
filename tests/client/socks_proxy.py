"""A SOCKS5 proxy on loopback for the client tests: no authentication, CONNECT only, and every
destination (a name, as socks5h sends it, or an address) relayed to one fixed upstream port.

Hand-written: the SOCKS5 handshake is a dozen bytes (RFC 1928), and a test needs to know that
the client really went through it (`connects` records each destination it was asked for).
"""

from __future__ import annotations

import socket
import struct
import threading


class Socks5Proxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"socks5h://127.0.0.1:{self._sock.getsockname()[1]}"
        self.connects: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            _, methods = _exactly(client, 2)
            _exactly(client, methods)
            client.sendall(b"\x05\x00")  # no authentication
            _, _, _, kind = _exactly(client, 4)
            if kind == 3:  # a name
                host = _exactly(client, _exactly(client, 1)[0]).decode()
            else:  # an IPv4 (1) or IPv6 (4) address
                host = socket.inet_ntop(
                    socket.AF_INET if kind == 1 else socket.AF_INET6,
                    _exactly(client, 4 if kind == 1 else 16),
                )
            (port,) = struct.unpack("!H", _exactly(client, 2))
            self.connects.append(f"{host}:{port}")
            with socket.create_connection(self._upstream) as upstream:
                client.sendall(b"\x05\x00\x00\x01" + bytes(4) + b"\x00\x00")
                relay = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
                relay.start()
                _pipe(client, upstream)
                relay.join(5)

    def close(self) -> None:
        self._sock.close()


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-handshake")
        data += chunk
    return data


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
