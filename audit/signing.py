"""The Ed25519 key that signs digests, and verification with its public half.

Ed25519 signatures are deterministic, so two collectors that build the same
digest produce the same bytes. The private key file is created 0600 on first
use; the public key and its fingerprint are published through the API.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from watchkeeper.atomicfile import write_atomically
from watchkeeper.errors import ConfigError, Problem


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the DER public key, as CloudTrail names its keys."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_der_b64(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def load_public_key(der_b64: str) -> Ed25519PublicKey:
    key = serialization.load_der_public_key(base64.b64decode(der_b64))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private_key.sign(message)).decode()

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, TypeError) as error:
                raise ConfigError([Problem(str(path), "audit.signing_key", f"not a PEM private key: {error}")]) \
                    from None
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigError([Problem(str(path), "audit.signing_key", "found a non-Ed25519 key; allowed: Ed25519")])
            return cls(key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, pem, mode=0o600)
        return cls(key)


def verify(public_key: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True
