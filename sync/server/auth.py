"""Passwords, bearer tokens, API keys and login rate limiting for the hub.

- Passwords are stored only as Argon2id hashes (slow, salted); an unknown username costs
  the same time as a wrong password, so logins do not reveal which accounts exist.
- A token is 32 random bytes; the store keeps only its SHA-256, with the device it was
  issued to, so a lost phone's tokens are revoked without touching the others.
- After `max_failures` wrong passwords for one account within `failure_window_s`, every
  login of that account answers 429 until the failures age out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store import SQLiteStore
from .errors import ApiError

# OWASP's Argon2id setting (19 MiB, 2 passes, 1 lane): tens of milliseconds per login here,
# slow enough against guessing, cheap enough that a shift change of logins does not queue.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < 1:
        raise ValueError("the password must not be empty")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def secret_hash(secret: str) -> str:
    """How tokens and API keys are kept: SHA-256 (they are long random strings)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass
class AuthSettings:
    token_ttl_s: float = 30 * 86400.0
    max_failures: int = 10
    failure_window_s: float = 300.0


class Authenticator:
    """Logs users in and resolves tokens and keys against the store."""

    def __init__(self, store: SQLiteStore, settings: AuthSettings | None = None) -> None:
        self.store = store
        self.settings = settings or AuthSettings()

    def login(self, username: str, password: str, device_id: str) -> tuple[str, dict[str, Any]]:
        """(token, user) or ApiError 401 `invalid_credentials` / 429 `too_many_attempts`."""
        recent = self.store.recent_login_failures(username, self.settings.failure_window_s)
        if recent >= self.settings.max_failures:
            raise ApiError(
                429,
                "too_many_attempts",
                "too many failed logins for this account; try again in a few minutes",
                headers={"Retry-After": str(int(self.settings.failure_window_s))},
            )
        user = self.store.user_by_username(username)
        ok = verify_password(user["password_hash"] if user else _DUMMY_HASH, password)
        if not user or not ok or user["disabled"]:
            self.store.record_login_failure(username)
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        token = secrets.token_urlsafe(32)
        self.store.add_token(secret_hash(token), user["id"], device_id, self.settings.token_ttl_s)
        user.pop("password_hash", None)
        return token, user

    def resolve(self, token: str | None) -> tuple[dict[str, Any], str]:
        """(user, device_id) for a live bearer token, else ApiError 401."""
        if not token:
            raise ApiError(
                401,
                "unauthorized",
                "log in first: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = self.store.token_user(secret_hash(token))
        if found is None:
            raise ApiError(
                401,
                "unauthorized",
                "the token is unknown, expired or revoked",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    def key_purpose(self, key: str | None) -> str | None:
        return self.store.api_key_purpose(secret_hash(key)) if key else None
