"""mailto: over STARTTLS with login against a real aiosmtpd on 127.0.0.1 whose certificate comes from a CA
made here: the client verifies it (ca_file), logs in only over TLS, and never falls back to cleartext."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alarms.notify.mail import send_mail
from alarms.notify.message import AlarmMessage
from tests.alarms.smtp_support import Mailbox, authenticate, free_port
from tests.alarms.service_support import NEWEST_PERIOD, metric_alarm, running, settings
from watchkeeper.config import validate
from watchkeeper.config.settings import SmtpSettings
from watchkeeper.errors import ConfigError, DeliveryError
from watchkeeper.storage.engine import Engine


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    directory = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("watchkeeper test CA")).issuer_name(_name("watchkeeper test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    return Pki(
        _pem(directory / "ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        _pem(directory / "server.pem", server.public_bytes(serialization.Encoding.PEM)),
        _pem(directory / "server.key", server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))


def _serve(pki: Pki | None) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 requiring STARTTLS and login (with pki), or a plain one without TLS."""
    port, mailbox = free_port(), Mailbox()
    tls: dict[str, Any] = {}
    if pki is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki.cert_file, pki.key_file)
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_required=True, **tls)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[tuple[Mailbox, int]]:
    yield from _serve(pki)


@pytest.fixture
def plain_server() -> Iterator[tuple[Mailbox, int]]:
    yield from _serve(None)


MESSAGE = AlarmMessage("cpu-high", 1, "ALARM", "OK", "Threshold Crossed", 1_767_607_200_000, {
    "AlarmName": "cpu-high", "Region": "local", "StateChangeTime": "2026-01-05T10:00:00.000+0000",
    "AlarmArn": "arn:aws:cloudwatch:local:1:alarm:cpu-high"})


def _smtp(port: int, **fields: Any) -> SmtpSettings:
    return SmtpSettings(**{"host": "127.0.0.1", "port": port, "starttls": True, "username": "alerts",
                           "password": "pw", "from_address": "wk@example.test", **fields})


def test_mail_arrives_after_starttls_and_login(tls_server: tuple[Mailbox, int], pki: Pki) -> None:
    mailbox, port = tls_server
    outcome = send_mail("mailto:oncall@example.test", MESSAGE, _smtp(port, ca_file=pki.ca_file), 10)
    assert outcome == f"mail accepted by 127.0.0.1:{port} for oncall@example.test"
    [envelope] = mailbox.envelopes
    assert envelope.rcpt_tos == ["oncall@example.test"] and mailbox.over_tls == [True]


def test_an_untrusted_certificate_is_refused(tls_server: tuple[Mailbox, int]) -> None:
    mailbox, port = tls_server
    with pytest.raises(DeliveryError, match="certificate not trusted .*set \\[alarms.smtp\\] ca_file"):
        send_mail("mailto:oncall@example.test", MESSAGE, _smtp(port), 10)  # the system's CAs only
    assert mailbox.envelopes == []


def test_no_cleartext_fallback_when_the_server_lacks_starttls(plain_server: tuple[Mailbox, int], pki: Pki) -> None:
    mailbox, port = plain_server
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{port} does not offer STARTTLS .*nothing sent in cleartext"):
        send_mail("mailto:oncall@example.test", MESSAGE, _smtp(port, ca_file=pki.ca_file), 10)
    assert mailbox.envelopes == []


def test_bad_credentials_are_a_failed_action(engine: Engine, tls_server: tuple[Mailbox, int], pki: Pki) -> None:
    mailbox, port = tls_server
    with running(engine, settings(smtp=_smtp(port, ca_file=pki.ca_file, password="wrong"), retries=0)) as wk:
        wk.call("PutMetricAlarm", metric_alarm("mail-me", "cpu", ["mailto:oncall@example.test"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        [failed] = wk.history("mail-me", "Action")
    assert failed["HistorySummary"].startswith(
        f'Failed to execute action mailto:oncall@example.test. Received error: "SMTP 127.0.0.1:{port}: (535, ')
    assert "Authentication credentials invalid" in failed["HistorySummary"] and mailbox.envelopes == []


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ca_file"):
        validate(SmtpSettings, {"ca_file": str(tmp_path / "nope.pem")}, "watchkeeper.toml")
