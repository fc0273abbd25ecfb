"""Requests: submitted (idempotently, by key), listed, cancelled. A cancel of a committed
request gives back everything it booked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import models
from broker.ledger.bookings import scenario_hash
from broker.ledger.db import schema as t
from broker.ledger.db.registry import now, registry_doc
from broker.ledger.results import RequestRecord, SubmitResult
from broker.ledger.store import Store, require_registry, utc
from models.dates import period_start
from models.scenario import Request as RequestModel


def submit(store: Store, source: str | Path | list[dict[str, Any]] | dict[str, Any]
           ) -> list[SubmitResult]:
    """Store new requests. `source`: a YAML/JSON file (a list of requests, or a
    scenario whose requests are taken) or the parsed document. Each request may carry
    an `idempotency_key` (default: its id); a key already stored returns the stored
    request and writes nothing."""
    name, items, prefix = request_items(source)
    if not items:
        # Nothing to store is not a success: an empty list is a file written wrong.
        raise models.InputError(name, [f"{prefix or '(document)'}: no requests to submit"])
    keys: list[str] = []
    docs: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"{prefix}[{i}]: a request must be a mapping of keys")
            continue
        item = dict(item)
        key = item.pop("idempotency_key", None)
        if key is not None and (not isinstance(key, str) or not key.strip()):
            problems.append(f"{prefix}[{i}].idempotency_key: must be a non-empty string")
        docs.append(item)
        keys.append(key if isinstance(key, str) and key.strip() else str(item.get("id")))
    if problems:
        raise models.InputError(name, problems)
    results: list[SubmitResult] = []
    with store.locked() as (s, st):
        require_registry(st)
        doc = registry_doc(s) | {"requests": docs}
        try:
            sc = models.scenario_from_dict(doc, name)
        except models.ScenarioError as e:
            raise models.InputError(name, [reprefix(p, prefix) for p in e.problems]
                                    ) from None
        stamp = now()
        for i, (key, req) in enumerate(zip(keys, sc.requests, strict=True)):
            norm = _request_doc(req)
            fp = scenario_hash(norm)
            old = s.scalars(select(t.Request).where(t.Request.idempotency_key == key)
                            ).one_or_none()
            if old is not None:
                if old.fingerprint != fp:
                    problems.append(f"{prefix}[{i}]: idempotency key '{key}' was used for "
                                    f"a different request (stored as '{old.id}')")
                else:
                    results.append(SubmitResult(request_record(old, s), created=False))
                continue
            if s.get(t.Request, req.id) is not None:
                problems.append(f"{prefix}[{i}].id: request '{req.id}' already exists "
                                "with another idempotency key")
                continue
            row = t.Request(id=req.id, idempotency_key=key, fingerprint=fp, document=norm,
                            component_id=req.component, quantity=req.quantity,
                            status="open", submitted_at=stamp)
            s.add(row)
            results.append(SubmitResult(request_record(row, s), created=True))
        if problems:
            raise models.InputError(name, problems)
    return results


STATUSES = ("open", "committed", "cancelled")


def requests(store: Store, status: str | None = None) -> list[RequestRecord]:
    if status is not None and status not in STATUSES:
        raise models.InputError("--status", [f"unknown status '{status}' (known: "
                                             f"{', '.join(STATUSES)})"])
    with store.snapshot() as s:
        q = select(t.Request).order_by(t.Request.submitted_at, t.Request.id)
        if status is not None:
            q = q.where(t.Request.status == status)
        return [request_record(r, s) for r in s.scalars(q)]


def request(store: Store, request_id: str) -> RequestRecord:
    with store.snapshot() as s:
        row = s.get(t.Request, request_id)
        if row is None:
            raise models.InputError("request", [f"unknown request '{request_id}'"])
        return request_record(row, s)


def cancel(store: Store, request_id: str) -> RequestRecord:
    """Cancel a request; a committed one gives back everything it booked."""
    with store.locked() as (s, st):
        row = s.get(t.Request, request_id)
        if row is None:
            raise models.InputError("request", [f"unknown request '{request_id}'"])
        if row.status == "cancelled":
            return request_record(row, s)
        if row.status == "committed":
            for table in t.LEDGER_TABLES:
                s.execute(delete(table).where(table.request_id == request_id))
            st.version += 1
        row.status = "cancelled"
        row.cancelled_at = now()
        return request_record(row, s)


def request_items(source: str | Path | list[dict[str, Any]] | dict[str, Any]
                   ) -> tuple[str, list[Any], str]:
    """(source name, request items, path prefix of the items in the document)."""
    if isinstance(source, str | Path):
        name, doc = str(source), models.read_document(source)
    else:
        name, doc = "<requests>", source
    if isinstance(doc, list):
        return name, doc, ""
    if isinstance(doc, dict):
        if "requests" in doc:
            items = doc["requests"]
            if not isinstance(items, list):
                raise models.InputError(name, ["requests: must be a list"])
            return name, items, "requests"
        if "id" in doc and "component" in doc:
            return name, [doc], "(request)"
    raise models.InputError(name, ["(document): expected a list of requests or a scenario "
                                   "with `requests`"])


def reprefix(problem: str, prefix: str) -> str:
    if problem.startswith("requests[") and prefix != "requests":
        return prefix + problem[len("requests"):] if prefix != "(request)" else \
            problem.split("]", 1)[1].lstrip(".") or "(request)"
    return problem


def _request_doc(r: RequestModel) -> dict[str, Any]:
    return r.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True) \
        | {"id": r.id, "component": r.component, "quantity": r.quantity}


def request_record(r: t.Request, s: Session | None = None) -> RequestRecord:
    """The record of a stored request; with a session, its effective due period and, when
    the registry's horizon has a start, its release and due dates (SPEC 8.1)."""
    doc = dict(r.document)
    due = release_date = due_date = None
    if s is not None:
        st = s.get(t.Settings, 1)
        if st is not None and st.periods:
            due = doc.get("due", st.periods - 1)
            if st.start is not None:
                release_date = period_start(st.start, st.period_days, doc.get("release", 0))
                due_date = period_start(st.start, st.period_days, due)
    return RequestRecord(r.id, r.idempotency_key, r.component_id, r.quantity, r.status,
                         utc(r.submitted_at), r.plan_id, doc, due, release_date, due_date)


def open_docs(s: Session, request_ids: Sequence[str] | None) -> list[dict[str, Any]]:
    if request_ids is None or len(request_ids) == 0:
        rows = list(s.scalars(select(t.Request).where(t.Request.status == "open")
                              .order_by(t.Request.submitted_at, t.Request.id)))
        if not rows:
            raise models.InputError("requests", ["no open requests to plan"])
        return [r.document for r in rows]
    problems = []
    docs = []
    for i, rid in enumerate(dict.fromkeys(request_ids)):
        row = s.get(t.Request, rid)
        if row is None:
            problems.append(f"--request[{i}]: unknown request '{rid}'")
        elif row.status != "open":
            problems.append(f"--request[{i}]: request '{rid}' is {row.status}, not open")
        else:
            docs.append(row.document)
    if problems:
        raise models.InputError("requests", problems)
    return docs
