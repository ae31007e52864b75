"""Accounts: people, their role, the knowledge bases granted to them, and API tokens.

Roles: ``admin`` may do everything everywhere (manage knowledge bases, people and grants,
export the audit log); ``editor`` may ask, upload, delete and re-index in the knowledge
bases granted to them; ``reader`` may only ask and read in theirs. Grants name knowledge
bases by their stable number (``index.catalog.BaseEntry.kb_id``), so renaming one keeps
its grants.

Passwords are stored as argon2id hashes (``argon2-cffi``, its recommended parameters).
An API token is a random secret shown once; only its SHA-256 is stored (a 256-bit secret
needs no slow hash). A script signs in with its user name and the token in place of the
password; tokens are revoked without touching the password.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.access.audit import AuditLog
from assistant.access.database import open_accounts_db
from assistant.access.throttle import LoginThrottle
from index.catalog import checked_name
from index.errors import ConfigurationError
from index.storage import sql
from index.storage.database import INTEGRITY_ERRORS, Database

Role = Literal["admin", "editor", "reader"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "yj_"
MIN_PASSWORD_CHARS = 8

_hasher = PasswordHasher()
_UNUSABLE_HASH = _hasher.hash(secrets.token_hex(16))
"""Verified against when the name is unknown, so a wrong name costs as long as a wrong
password and timing does not reveal which names exist."""


@dataclass(frozen=True)
class User:
    """One account as the rest of the program sees it (never with its hash)."""

    name: str
    role: Role
    kb_ids: frozenset[int]
    tokens: int
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_read(self, kb_id: int) -> bool:
        """Whether this person may ask and read in knowledge base ``kb_id``."""
        return self.is_admin or kb_id in self.kb_ids

    def can_write(self, kb_id: int) -> bool:
        """Whether this person may upload, delete and re-index in knowledge base ``kb_id``."""
        return self.is_admin or (self.role == "editor" and kb_id in self.kb_ids)


def checked_role(role: str) -> Role:
    """``role`` when it is one of ``ROLES``, else ``ConfigurationError``."""
    if role not in ROLES:
        raise ConfigurationError(
            f"角色“{role}”无效，应为 {'、'.join(ROLES)} 之一",
            f"invalid role “{role}”: use one of {', '.join(ROLES)}",
        )
    return role  # type: ignore[return-value]


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigurationError(
            f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符",
            f"a password needs at least {MIN_PASSWORD_CHARS} characters",
        )
    return password


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _no_such_user(name: str) -> ConfigurationError:
    return ConfigurationError(f"没有名为“{name}”的用户", f"there is no user named “{name}”")


class Accounts:
    """The accounts database of one data folder; safe to share between threads."""

    def __init__(self, database: Database) -> None:
        """Use ``open``."""
        self._db = database
        self._lock = threading.RLock()
        self.audit = AuditLog(database, self._lock)
        self.throttle = LoginThrottle(database, self._lock)

    @classmethod
    def open(cls, data_dir: Path, database_url: str = "") -> Accounts:
        """The accounts of ``data_dir`` (``accounts.sqlite3``, created on first use), or
        those in the PostgreSQL database at ``database_url``."""
        return cls(open_accounts_db(data_dir, database_url))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------

    def exist(self) -> bool:
        """Whether any account exists (then the web app asks everyone to sign in)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._lock:
            names = [row[0] for row in self._db.execute("SELECT name FROM users ORDER BY name")]
        return [user for name in names if (user := self.user(name)) is not None]

    def user(self, name: str) -> User | None:
        """The account ``name``, with its grants, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT user_id, role, created_at FROM users WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return None
            user_id, role, created_at = row
            kb_ids = frozenset(
                kb_id
                for (kb_id,) in self._db.execute(
                    "SELECT kb_id FROM grants WHERE user_id = ?", (user_id,)
                )
            )
            tokens = self._db.execute(
                "SELECT COUNT(*) FROM tokens WHERE user_id = ?", (user_id,)
            ).fetchone()[0]
        return User(name, role, kb_ids, tokens, created_at)

    def authenticate(self, name: str, secret: str) -> User | None:
        """The account ``name`` if ``secret`` is its password or one of its tokens."""
        with self._lock:
            row = self._db.execute(
                "SELECT user_id, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and secret.startswith(TOKEN_PREFIX):
                match = self._db.execute(
                    "SELECT 1 FROM tokens WHERE user_id = ? AND token_hash = ?",
                    (row[0], _token_digest(secret)),
                ).fetchone()
                return self.user(name) if match else None
        try:
            _hasher.verify(_UNUSABLE_HASH if row is None else row[1], secret)
        except (VerificationError, InvalidHashError):
            return None
        return None if row is None else self.user(name)

    # -- changing ---------------------------------------------------------------------

    def _write(self) -> AbstractContextManager[None]:
        return sql.transaction(self._db, self._lock)

    def _user_id(self, name: str) -> int:
        row = self._db.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise _no_such_user(name)
        return int(row[0])

    def add(self, name: str, password: str, role: str = "reader") -> User:
        """Create an account; its password is hashed with argon2id."""
        name, role = checked_name(name), checked_role(role)
        digest = _hasher.hash(_checked_password(password))
        try:
            with self._write():
                self._db.execute(
                    "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?)",
                    (name, role, digest),
                )
        except INTEGRITY_ERRORS as error:
            raise ConfigurationError(f"已有名为“{name}”的用户", f"user “{name}” exists") from error
        return self._existing(name)

    def set_password(self, name: str, password: str) -> None:
        """Replace the password of ``name``."""
        digest = _hasher.hash(_checked_password(password))
        with self._write():
            self._db.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                (digest, self._user_id(name)),
            )

    def set_role(self, name: str, role: str) -> User:
        """Change the role of ``name``."""
        role = checked_role(role)
        with self._write():
            self._db.execute(
                "UPDATE users SET role = ? WHERE user_id = ?", (role, self._user_id(name))
            )
        return self._existing(name)

    def remove(self, name: str) -> None:
        """Delete the account ``name`` with its grants and tokens."""
        with self._write():
            self._db.execute("DELETE FROM users WHERE user_id = ?", (self._user_id(name),))

    def grant(self, name: str, kb_id: int) -> User:
        """Let ``name`` use knowledge base ``kb_id`` (as their role allows)."""
        with self._write():
            self._db.execute(
                "INSERT INTO grants (user_id, kb_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (self._user_id(name), kb_id),
            )
        return self._existing(name)

    def revoke(self, name: str, kb_id: int) -> User:
        """Take knowledge base ``kb_id`` away from ``name``."""
        with self._write():
            self._db.execute(
                "DELETE FROM grants WHERE user_id = ? AND kb_id = ?", (self._user_id(name), kb_id)
            )
        return self._existing(name)

    def forget_base(self, kb_id: int) -> None:
        """Drop every grant of a deleted knowledge base (its number is never reused)."""
        with self._write():
            self._db.execute("DELETE FROM grants WHERE kb_id = ?", (kb_id,))

    def new_token(self, name: str, label: str = "") -> str:
        """A new API token for ``name``: returned once, only its digest is kept."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write():
            self._db.execute(
                "INSERT INTO tokens (user_id, token_hash, label) VALUES (?, ?, ?)",
                (self._user_id(name), _token_digest(secret), label),
            )
        return secret

    def revoke_tokens(self, name: str) -> int:
        """Revoke every token of ``name``; returns how many there were."""
        with self._write():
            cursor = self._db.execute(
                "DELETE FROM tokens WHERE user_id = ?", (self._user_id(name),)
            )
        return cursor.rowcount

    def _existing(self, name: str) -> User:
        user = self.user(name)
        if user is None:
            raise _no_such_user(name)
        return user
