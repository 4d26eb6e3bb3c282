"""A TCP proxy on 127.0.0.1 standing in for the link between two sites. `freeze()`
stops bytes in both directions while sockets stay open (like a cut WAN link);
`resume()` lets them flow again; `close()` drops everything."""
from __future__ import annotations

import selectors
import socket
import threading


class LinkProxy:
    def __init__(self, target_port: int, *, listen_port: int = 0) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", listen_port))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._stopped.set()
        self._flowing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        selector = selectors.DefaultSelector()
        for sock in peers:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        try:
            while not self._stopped.is_set():
                self._flowing.wait()
                for key, _ in selector.select(timeout=0.2):
                    if not self._flowing.is_set():
                        break  # frozen: leave the bytes unread, the link is "cut"
                    try:
                        data = key.fileobj.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    if not data:
                        return
                    peers[key.fileobj].setblocking(True)
                    peers[key.fileobj].sendall(data)
                    peers[key.fileobj].setblocking(False)
        except OSError:
            return
        finally:
            selector.close()
            for sock in peers:
                sock.close()
