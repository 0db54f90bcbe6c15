"""What the two JSON APIs (the holder's `/api/v1` and the migration's `/admin/api`) share:
the declaration of an endpoint, the parsing of its input with marshmallow, problem details
(RFC 9457) with their headers, and the OpenAPI 3 document built by apispec from the same
declarations, so that what the router parses and dumps is what the document says.

Input that no endpoint can use is refused here, for both APIs, before any view sees it
(`refuse_unusable_input`, `json_body`, `load`): a value the database cannot hold is a client's
error (400, or 404 for a path that names nothing), never a 500 — a string with a NUL
character (PostgreSQL's text cannot hold one, and no file name or file number has one), an
integer outside the integer columns (ids, line numbers: signed 32 bits on PostgreSQL), JSON
nested past what a parser can read."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import FileStorage

from modern import validation_messages
from modern.errors import DomainError, InvalidRequest, NotFound, problem, title_for
from modern.i18n import N_

_RULE_VARIABLE = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
INVALID = N_("Requête invalide : voir « errors ».")


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One endpoint, as the router and the OpenAPI document both need it."""

    rule: str
    method: str
    name: str
    summary: str
    description: str
    tag: str
    output: type[Schema] | None  # None: a file (its type is said by the API's own document)
    status: int = 200
    query: type[Schema] | None = None
    body: type[Schema] | None = None  # JSON
    errors: tuple[int, ...] = ()

    def answers(self, always: set[int]) -> tuple[int, ...]:
        """Every status this endpoint may answer besides its own: its declared errors, those
        of the whole API (`always`), and 400 where it reads input."""
        codes = set(self.errors) | always
        if self.query or self.body:
            codes.add(400)
        return tuple(sorted(codes))


# -- input ---------------------------------------------------------------------------------------

# The largest value of the integer columns an input is compared with (ids, line numbers):
# SQL INTEGER, signed 32 bits on PostgreSQL. SQLite would take up to 2^63 - 1.
MAX_INTEGER = 2**31 - 1
NUL = "\x00"


def _unusable(value: Any) -> str | None:
    """Why no endpoint can use `value` (a loaded JSON value, a path or query value), or None.
    Iterative, so that any depth of nesting is walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return N_("Caractère nul (U+0000) interdit.")
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -MAX_INTEGER - 1 <= item <= MAX_INTEGER:
                return N_("Nombre hors des limites (entier signé de 32 bits).")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


def refuse_unusable_input() -> None:
    """Before the views of an API (`before_request`): a path value no resource can have is a
    404, a query value none can use a 400. Reads neither the body nor the form (an upload's
    own size limit is set later, by the view's declaration)."""
    for value in (request.view_args or {}).values():
        if _unusable(value):
            raise NotFound(N_("Aucune ressource à cette adresse."))
    for name, value in request.args.items(multi=True):
        if (reason := _unusable(value)) or (reason := _unusable(name)):
            raise InvalidRequest(INVALID,
                                 errors={name.replace(NUL, ""): [reason]})


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise InvalidRequest(N_("Le corps de la requête doit être du JSON (Content-Type: "
                                "application/json)."))
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a request of ours
        data = None
    if data is None:
        raise InvalidRequest(N_("Le corps de la requête n'est pas du JSON valide."))
    if not isinstance(data, dict):
        raise InvalidRequest(N_("Un objet JSON est attendu."))
    return data


def load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """The input as the schema loads it; refused fields in the problem's `errors`."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as error:
        raise InvalidRequest(INVALID,
                             errors=error.normalized_messages()) from None
    for name, value in loaded.items():
        if reason := _unusable(value):
            raise InvalidRequest(INVALID,
                                 errors={name: [reason]})
    return loaded


def file_name(upload: FileStorage | None, field: str) -> str | None:
    """The base name of the file uploaded in `field`, None when there is none."""
    if upload is None or not upload.filename:
        return None
    if NUL in upload.filename:
        raise InvalidRequest(INVALID,
                             errors={field: [N_("Caractère nul (U+0000) interdit dans le nom.")]})
    return upload.filename.replace("\\", "/").rsplit("/", 1)[-1] or None


# -- errors --------------------------------------------------------------------------------------

def problem_of(error: DomainError, *, authenticate: str) -> Response:
    """The problem details of a domain error, with `WWW-Authenticate: <authenticate>` on a
    401 and `Retry-After` on a 429; the messages of `errors` in the request's language."""
    extra = ({"errors": validation_messages.translated(error.details["errors"])}
             if "errors" in error.details else {})
    response = problem(error.status, title_for(error.status), error.code,
                       error.message, **extra)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = authenticate
    if error.status == 429:
        response.headers["Retry-After"] = str(error.details.get("retry_after") or 60)
    return response


# -- the OpenAPI document ----------------------------------------------------------------------

def problem_response(status: int, schema: type[Schema]) -> dict[str, Any]:
    """The document's description of an error answer."""
    response: dict[str, Any] = {
        "description": title_for(status),
        "content": {"application/problem+json": {"schema": schema}}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == 429:
        response["headers"] = {"Retry-After": {
            "description": "Secondes à attendre", "schema": {"type": "integer"}}}
    return response


def rule_variables(rule: str) -> list[str]:
    return _RULE_VARIABLE.findall(rule)


def described(op: Operation, ok: dict[str, Any], problems: dict[str, Any]) -> dict[str, Any]:
    """The parts of an operation's description that both APIs write alike; each adds its
    own (security, parameters of the path, request bodies other than JSON)."""
    spec: dict[str, Any] = {
        "operationId": op.name, "summary": op.summary, "tags": [op.tag],
        "responses": {str(op.status): ok, **problems}}
    if op.description:
        spec["description"] = op.description
    if op.query is not None:
        spec["parameters"] = [{"in": "query", "schema": op.query}]
    if op.body is not None:
        spec["requestBody"] = {"required": True,
                               "content": {"application/json": {"schema": op.body}}}
    return spec


@dataclass(frozen=True)
class Document:
    """An API's OpenAPI document: its title, description, where it is mounted, its security
    scheme, and how it describes one of its operations."""

    title: str
    description: str
    prefix: str
    security: str  # the name of its scheme
    scheme: Callable[[Flask], dict[str, Any]]  # the scheme, as the application configures it
    describe: Callable[[Any], dict[str, Any]]
    secured_by_default: bool = False  # else each operation says whether it is

    def build(self, app: Flask, operations: Sequence[Operation]) -> dict[str, Any]:
        spec = APISpec(
            title=self.title, version="1.0.0", openapi_version="3.0.3",
            plugins=[MarshmallowPlugin()], info={"description": self.description},
            servers=[{"url": "/"}],
            **({"security": [{self.security: []}]} if self.secured_by_default else {}))
        spec.components.security_scheme(self.security, self.scheme(app))
        paths: dict[str, dict[str, Any]] = {}
        for op in operations:
            path = self.prefix + _RULE_VARIABLE.sub(r"{\1}", op.rule)
            paths.setdefault(path, {})[op.method.lower()] = self.describe(op)
        for path, operations_of_path in paths.items():
            spec.path(path=path, operations=operations_of_path)
        return spec.to_dict()

    def cached(self, app: Flask, operations: Sequence[Operation]) -> dict[str, Any]:
        """Built once per application: the declarations do not change while it runs."""
        key = f"openapi:{self.prefix}"
        document: dict[str, Any] | None = app.extensions.get(key)
        if document is None:
            document = app.extensions[key] = self.build(app, operations)
        return document
