"""Real receivers on loopback for the alert tests: an SMTP server (aiosmtpd), syslog
listeners over UDP and TCP, and an SNMP trap receiver built on pysnmp."""
from __future__ import annotations

import asyncio
import email
import socket
import socketserver
import threading
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.rfc1902 import OctetString

COMMUNITY = "alerts-test-community"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpReceiver:
    """Accepts every message; with `refuse_logins`, asks for a login and refuses any."""

    def __init__(self, port: int | None = None, *, refuse_logins: bool = False) -> None:
        self.messages: list[Message] = []
        self.port = port or free_port()
        auth = {"auth_required": True, "auth_require_tls": False,
                "authenticator": lambda *_args: AuthResult(success=False, handled=False)} \
            if refuse_logins else {}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **auth)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class SyslogUdpReceiver:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            try:
                data, _ = self._sock.recvfrom(65535)
            except OSError:
                return  # closed
            self.messages.append(data)

    def start(self) -> SyslogUdpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._sock.close()


class _OctetCountingHandler(socketserver.StreamRequestHandler):
    """RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG, repeated."""

    def handle(self) -> None:
        while True:
            length = b""
            while (char := self.rfile.read(1)) not in (b" ", b""):
                length += char
            if not length:
                return
            self.server.messages.append(self.rfile.read(int(length)))


class SyslogTcpReceiver:
    def __init__(self) -> None:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _OctetCountingHandler)
        self._server.daemon_threads = True
        self._server.messages = []
        self.messages: list[bytes] = self._server.messages
        self.port = self._server.server_address[1]

    def start(self) -> SyslogTcpReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _text(value) -> str:
    if isinstance(value, OctetString):
        return value.asOctets().decode("utf-8")  # prettyPrint shows multi-line text as hex
    return value.prettyPrint()


class SnmpTrapReceiver:
    """Accepts v2c traps for its community; each trap is a list of (oid, value, type name)."""

    def __init__(self, community: str = COMMUNITY) -> None:
        self.community = community
        self.traps: list[list[tuple[str, str, str]]] = []
        self.port = free_port(socket.SOCK_DGRAM)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _received(self, _engine, _ref, _engine_id, _context, var_binds, _ctx) -> None:
        self.traps.append([(str(name), _text(value), type(value).__name__)
                           for name, value in var_binds])

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        snmp_engine = engine.SnmpEngine()
        config.add_transport(snmp_engine, udp.DOMAIN_NAME,
                             udp.UdpTransport().open_server_mode(("127.0.0.1", self.port)))
        config.add_v1_system(snmp_engine, "alerts-test", self.community)
        ntfrcv.NotificationReceiver(snmp_engine, self._received)
        snmp_engine.transport_dispatcher.job_started(1)
        self._ready.set()
        self._loop.run_forever()
        snmp_engine.close_dispatcher()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> SnmpTrapReceiver:
        self._thread.start()
        assert self._ready.wait(10), "the SNMP trap receiver did not start"
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
