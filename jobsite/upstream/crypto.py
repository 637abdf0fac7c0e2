"""Encryption at rest for upstream API tokens.

Tokens are sealed with Fernet (AES-128-CBC + HMAC from `cryptography`) under a key taken from
JOBSITE_ENCRYPTION_KEY, or derived from SECRET_KEY when that is unset, so a copied database alone
does not give away the tokens.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class UnreadableSecret(Exception):
    """The stored token was sealed under another key."""


@functools.cache
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jobsite-upstream-token", info=b"fernet").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _current() -> Fernet:
    return _fernet(settings.JOBSITE_ENCRYPTION_KEY or settings.SECRET_KEY)


def seal(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _current().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise UnreadableSecret("the token was encrypted under another key") from exc
