"""Errors of the service as `application/problem+json` (RFC 9457).

Every refusal has `type`, `title`, `status` and `detail`; invalid input adds `errors`,
one line per problem with its path in the document, exactly as the CLI prints them; a
conflict adds `conflicts`, naming what no longer fits. No response ever carries a stack
trace: an unexpected error is logged by the server and answered with a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

import models
from broker.ledger import LedgerConflict
from models.validate import loc_to_path

log = logging.getLogger("broker.service")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:imc-broker:problem:"

_TITLES = {
    400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
    405: "method not allowed", 409: "conflict", 413: "request body too large",
    415: "unsupported media type", 422: "invalid input", 500: "internal error",
    503: "service unavailable",
}
_SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "media-type",
    422: "invalid-input", 500: "internal", 503: "unavailable",
}


class Problem(Exception):
    """An HTTP refusal with an RFC 9457 body."""

    def __init__(self, status: int, detail: str, *, errors: Sequence[str] | None = None,
                 conflicts: Sequence[str] | None = None, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.conflicts = list(conflicts) if conflicts is not None else None
        self.title = title or _TITLES.get(status, "error")
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": TYPE_BASE + _SLUGS.get(self.status, str(self.status)),
                               "title": self.title, "status": self.status,
                               "detail": self.detail}
        if instance is not None:
            out["instance"] = instance
        if self.errors is not None:
            out["errors"] = self.errors
        if self.conflicts is not None:
            out["conflicts"] = self.conflicts
        out.update(self.extra)
        return out


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def problem_response(p: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(p.body(instance), status_code=p.status, media_type=PROBLEM_JSON,
                        headers=p.headers)


# What the library calls a document it was handed parsed: over HTTP, the request body.
_BODY_SOURCES = {"<requests>", "<scenario>", "<variant>", "<plan>"}


def invalid(e: models.InputError) -> Problem:
    source = "request body" if e.source in _BODY_SOURCES else e.source
    return Problem(422, f"{source}: {len(e.problems)} problem(s)", errors=e.problems)


def too_large(limit: int) -> Problem:
    return Problem(413, f"request body larger than {limit:,} bytes")


INTERNAL = "internal error; the server log has the details"


def parse_body(raw: bytes) -> Any:
    """A JSON request body read by the same parser as a file (duplicate keys, nesting and
    syntax errors named by line); raises `Problem` or `models.InputError` (422)."""
    from models.io import parse_text

    if not raw.strip():
        raise Problem(422, "request body: empty", errors=["(document): a JSON document is "
                                                         "required"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(422, "request body: not UTF-8", errors=[
            "(document): the body must be UTF-8 JSON"]) from None
    return parse_text(text, "request body", "json")


class CatchAll:
    """Answer an unexpected error with a bare 500 problem and keep the connection: the
    handler Starlette calls for `Exception` re-raises after answering, and uvicorn then
    drops the connection, so a keep-alive client's next request failed with a reset."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.exception("internal error on %s", scope.get("path"))
            await problem_response(Problem(500, INTERNAL), scope.get("path"))(
                scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    def path(request: Request) -> str:
        return request.url.path

    @app.exception_handler(Problem)
    async def _problem(request: Request, e: Problem) -> JSONResponse:
        return problem_response(e, path(request))

    @app.exception_handler(models.InputError)
    async def _input(request: Request, e: models.InputError) -> JSONResponse:
        return problem_response(invalid(e), path(request))

    @app.exception_handler(LedgerConflict)
    async def _conflict(request: Request, e: LedgerConflict) -> JSONResponse:
        return problem_response(Problem(409, e.message, conflicts=e.problems), path(request))

    @app.exception_handler(BodyTooLarge)
    async def _large(request: Request, e: BodyTooLarge) -> JSONResponse:
        return problem_response(too_large(e.limit), path(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError) -> JSONResponse:
        if any(err.get("type") == "json_invalid" or tuple(err.get("loc", ())) == ("body",)
               for err in e.errors()):
            # A body that is no JSON object at all: the lines of the parser every other
            # body goes through ("line 1, column 15: JSON syntax error: ..."), not
            # FastAPI's ("[14]: JSON decode error").
            try:
                parse_body(await request.body())
            except Problem as p:
                return problem_response(p, path(request))
            except models.InputError as bad:
                return problem_response(invalid(bad), path(request))
        errors = []
        for err in e.errors():
            loc = tuple(err.get("loc", ()))
            if loc and loc[0] == "body":
                loc = loc[1:]
            msg = str(err.get("msg", "invalid")).rstrip(".")
            errors.append(f"{loc_to_path(loc)}: {msg}")
        return problem_response(Problem(422, f"{len(errors)} problem(s) in the request",
                                        errors=list(dict.fromkeys(errors))), path(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        detail = e.detail if isinstance(e.detail, str) else _TITLES.get(e.status_code, "")
        return problem_response(Problem(e.status_code, detail,
                                        headers=dict(e.headers or {}) or None), path(request))

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, e: OperationalError) -> JSONResponse:
        log.error("database error on %s: %s", path(request), e.orig)
        return problem_response(Problem(503, "the database does not answer; try again"),
                                path(request))

    @app.exception_handler(DataError)
    async def _data(request: Request, e: DataError) -> JSONResponse:
        # A value the database cannot hold or compare (a NUL character in text on
        # PostgreSQL, a number out of a column's range) came with the request.
        log.warning("database refused a value on %s: %s", path(request), e.orig)
        return problem_response(Problem(422, "request: 1 problem(s)", errors=[
            "(request): a value the database cannot hold (a NUL character, or a number "
            "out of range)"]), path(request))

    @app.exception_handler(SQLAlchemyError)
    async def _db(request: Request, e: SQLAlchemyError) -> JSONResponse:
        log.exception("database error on %s", path(request))
        return problem_response(Problem(500, INTERNAL), path(request))
