"""API keys of the service: made and revoked with `broker keys`, kept only as salted
argon2 hashes, presented as `Authorization: Bearer KEY`.

A key reads `imc_<id>_<secret>`: the id finds its row without scanning every hash, the
secret is what the hash proves. Verifying an argon2 hash costs tens of milliseconds on
purpose, so a key verified once is remembered (by a sha256 of the whole key) for the life
of the server; its row is still read on every request, so a revocation counts at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

import models
from broker.ledger.db import schema as t
from broker.ledger.db.engine import WRITE_LOCK
from broker.ledger.db.registry import now

ROLES = ("planner", "buyer", "workshop", "viewer")
PREFIX = "imc_"

_hasher = PasswordHasher()
_KEY_ROW = select(t.ApiKey.id, t.ApiKey.role, t.ApiKey.buyer, t.ApiKey.workshop_id,
                  t.ApiKey.secret_hash, t.ApiKey.revoked_at).where(
    t.ApiKey.id == bindparam("id"))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and role, and the party a buyer or workshop key is
    bound to."""

    key_id: str
    role: str
    buyer: str | None = None
    workshop: str | None = None


@dataclass(frozen=True)
class KeyInfo:
    id: str
    role: str
    buyer: str | None
    workshop: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    key: str  # shown once; only its hash is stored


def _info(r: t.ApiKey) -> KeyInfo:
    return KeyInfo(r.id, r.role, r.buyer, r.workshop_id, r.label, r.created_at, r.revoked_at)


class KeyStore:
    """The `api_keys` table of a ledger database."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_LOCK: True})
        self._verified: dict[str, str] = {}  # key id -> sha256 of the key that verified
        self._lock = threading.Lock()

    def create(self, role: str, *, buyer: str | None = None, workshop: str | None = None,
               label: str | None = None) -> NewKey:
        problems = _role_problems(role, buyer, workshop)
        if problems:
            raise models.InputError("keys create", list(problems))
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            if workshop is not None and s.get(t.Workshop, workshop) is None:
                raise models.InputError("keys create", [
                    f"--workshop: unknown workshop '{workshop}'"])
            row = t.ApiKey(id=key_id, role=role, buyer=buyer, workshop_id=workshop,
                           secret_hash=_hasher.hash(key), label=label, created_at=now())
            s.add(row)
        return NewKey(_info(row), key)

    def revoke(self, key_id: str) -> KeyInfo:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            row = s.get(t.ApiKey, key_id)
            if row is None:
                raise models.InputError("keys revoke", [f"unknown key '{key_id}'"])
            if row.revoked_at is None:
                row.revoked_at = now()
        with self._lock:
            self._verified.pop(key_id, None)
        return _info(row)

    def list(self) -> list[KeyInfo]:
        with Session(self._engine) as s:
            return [_info(r) for r in s.scalars(select(t.ApiKey).order_by(t.ApiKey.created_at))]

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        if not key.startswith(PREFIX) or "_" not in key[len(PREFIX):]:
            return None
        key_id = key[len(PREFIX):].split("_", 1)[0]
        # The row's few columns without a session: read on every request (0.21 ms of the
        # server's CPU through the ORM, 0.07 so).
        with self._engine.connect() as conn:
            row = conn.execute(_KEY_ROW, {"id": key_id}).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        principal = Principal(row.id, row.role, row.buyer, row.workshop_id)
        stored = row.secret_hash
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            known = self._verified.get(key_id)
        if known is not None and hmac.compare_digest(known, digest):
            return principal
        try:
            _hasher.verify(stored, key)
        except (VerificationError, InvalidHashError):
            return None
        with self._lock:
            self._verified[key_id] = digest
        return principal


def _role_problems(role: str, buyer: str | None, workshop: str | None) -> Sequence[str]:
    if role not in ROLES:
        return [f"--role: unknown role '{role}' (roles: {', '.join(ROLES)})"]
    if role == "buyer" and not buyer:
        return ["--buyer: a buyer key needs the buyer it acts for"]
    if role == "workshop" and not workshop:
        return ["--workshop: a workshop key needs the workshop it acts for"]
    if role != "buyer" and buyer:
        return ["--buyer: only a buyer key acts for a buyer"]
    if role != "workshop" and workshop:
        return ["--workshop: only a workshop key acts for a workshop"]
    return []
