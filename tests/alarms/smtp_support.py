"""A real SMTP receiver's pieces for the mailto: tests (aiosmtpd): the mailbox and the one login it accepts."""

from __future__ import annotations

import socket
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class Mailbox:
    """Every mail received, and whether its session was over TLS (after STARTTLS)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        self.over_tls.append(session.ssl is not None)
        return "250 OK"


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    """Accepts alerts/pw only; handled=False makes aiosmtpd answer a refusal with 535 itself."""
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"pw")
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
