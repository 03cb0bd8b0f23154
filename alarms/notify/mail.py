"""mailto: actions: a mail through the configured SMTP server (STARTTLS and login when configured)."""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

from alarms.notify.message import AlarmMessage
from watchkeeper.config.settings import SmtpSettings
from watchkeeper.errors import DeliveryError


def recipients(uri: str) -> list[str]:
    """mailto:a@x,b@y?subject=... -> [a@x, b@y]."""
    return [unquote(a).strip() for a in urlparse(uri).path.split(",") if a.strip()]


def compose(uri: str, message: AlarmMessage, sender: str) -> EmailMessage:
    body = message.body
    query = parse_qs(urlparse(uri).query)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients(uri))
    mail["Subject"] = query.get("subject", [f'{message.new_state}: "{message.alarm_name}" in {body["Region"]}'])[0]
    mail.set_content(
        f'You are receiving this email because your Watchkeeper alarm "{message.alarm_name}" in the '
        f'{body["Region"]} region has entered the {message.new_state} state, because "{message.reason}" '
        f'at "{body["StateChangeTime"]}".\n\n'
        f"Alarm Details:\n- Name: {message.alarm_name}\n- Description: {body.get('AlarmDescription') or ''}\n"
        f"- State Change: {message.old_state} -> {message.new_state}\n- Reason for State Change: {message.reason}\n"
        f"- Timestamp: {body['StateChangeTime']}\n- Alarm ARN: {body['AlarmArn']}\n\n"
        f"The full notification:\n{json.dumps(body, indent=2)}\n")
    return mail


def _start_tls(server: smtplib.SMTP, smtp: SmtpSettings) -> None:
    """Upgrade to TLS, verifying the certificate against ca_file (or the system's CAs) and the host name;
    a server that does not offer STARTTLS gets nothing in cleartext."""
    server.ehlo()
    if not server.has_extn("starttls"):
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port} does not offer STARTTLS ([alarms.smtp] starttls = true); "
                            "nothing sent in cleartext")
    context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file is not None else None)
    try:
        server.starttls(context=context)
    except ssl.SSLCertVerificationError as error:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: certificate not trusted ({error.verify_message}); "
                            "set [alarms.smtp] ca_file to the CA that signed it") from None


def send_mail(uri: str, message: AlarmMessage, smtp: SmtpSettings, timeout: float) -> str:
    to = recipients(uri)
    if not to:
        raise DeliveryError(f"{uri} names no recipient")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
            if smtp.starttls:
                _start_tls(server, smtp)
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            refused = server.send_message(compose(uri, message, smtp.from_address), to_addrs=to)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {error}") from None
    if refused:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port} refused {', '.join(sorted(refused))}")
    return f"mail accepted by {smtp.host}:{smtp.port} for {', '.join(to)}"
