"""HTTP plumbing of the Kubernetes REST API: JSON responses, Status errors, request parsing.

Every answer is JSON (``Content-Type: application/json``) and every error a ``metav1.Status``
whose ``code`` is the HTTP status (kubectl-contract §1.3, §10); nothing under ``/api``,
``/apis``, ``/version`` or ``/openapi`` ever answers with an HTML page. :func:`api_view` wraps a
view so that store errors become their Status and anything unexpected becomes a 500 Status.

Request helpers parse what kubectl and the Python client send: bodies with or without a
``Content-Type`` (the Python client 37.x sends none on create, §1.4), booleans as Go's
``strconv.ParseBool`` reads them (``watch=True`` from the Python client 32.x, §1.2), and the
``Accept`` header's ``as=Table`` / ``as=PartialObjectMetadata`` requests.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from cluster.store.errors import (
    BadRequest,
    MethodNotAllowed,
    RequestEntityTooLarge,
    StoreError,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# PATCH Content-Type -> the name of the patch type in ``cluster.store.write.PATCH_TYPES``.
PATCH_CONTENT_TYPES = {
    MERGE_PATCH: "merge",
    JSON_PATCH: "json",
    STRATEGIC_PATCH: "strategic",
    APPLY_PATCH: "apply",
    "application/apply-patch+json": "apply",
}

NOT_FOUND_MESSAGE = "the server could not find the requested resource"


class NotFoundPath(StoreError):
    """A URL this server does not serve: the apiserver's generic 404 (no details)."""

    code = 404
    reason = "NotFound"

    def __init__(self) -> None:
        super().__init__(NOT_FOUND_MESSAGE)


def method_not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("the server does not allow this method on the requested resource")


def unsupported_media_type(content_type: str, accepted: list[str]) -> UnsupportedMediaType:
    """The apiserver's 415 for a body type it cannot decode."""
    return UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}"
        if content_type
        else "the body of the request was in an unknown format"
    )


# --- responses -------------------------------------------------------------------------------


# Datetimes and dataclasses go to ``default`` (``str``) as with ``json.dumps(default=str)``.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_bytes(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON (the apiserver writes no spaces).

    orjson writes it, several times faster than ``json`` (a page of 500 pods' Table); what it
    refuses (integers beyond 64 bits, non-string keys, very deep nesting) ``json.dumps``
    writes. The two agree byte for byte except in how some floats are spelled (``1e-05`` by
    ``json``, ``0.00001`` by orjson: the same number).
    """
    try:
        return orjson.dumps(obj, default=str, option=_ORJSON_OPTIONS)
    except TypeError:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode()


def json_response(obj: Any, status: int = 200, content_type: str = JSON) -> HttpResponse:
    """``obj`` as compact JSON (the apiserver writes no spaces)."""
    return HttpResponse(json_bytes(obj), status=status, content_type=content_type)


def status_response(error: StoreError) -> HttpResponse:
    """The error's ``metav1.Status``, with the HTTP status equal to its ``code``."""
    return json_response(error.as_status(), status=error.code)


def success_status(details: dict[str, Any] | None = None, code: int = 200) -> dict[str, Any]:
    """``{"kind":"Status",...,"status":"Success"}``: what a delete or an eviction answers."""
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    status["status"] = "Success"
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


def internal_error(error: BaseException) -> HttpResponse:
    """A 500 Status, as the apiserver reports an unexpected error."""
    text = str(error) or type(error).__name__
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {text}",
        "reason": "InternalError",
        "details": {"causes": [{"message": text}]},
        "code": 500,
    }
    return json_response(body, status=500)


View = Callable[..., HttpResponse]
AsyncView = Callable[..., Awaitable[HttpResponse]]


def api_view(view: View) -> View:
    """A CSRF-exempt sync view whose errors are Status objects (never an HTML page)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StoreError as error:
            return status_response(error)
        except Exception as error:  # a bug: still a Status, and logged
            logger.exception("API request %s %s failed", request.method, request.path)
            return internal_error(error)

    return csrf_exempt(wrapped)


def async_api_view(view: AsyncView) -> AsyncView:
    """:func:`api_view` for async views (the ones that may stream)."""

    @functools.wraps(view)
    async def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return await view(request, *args, **kwargs)
        except StoreError as error:
            return status_response(error)
        except Exception as error:
            logger.exception("API request %s %s failed", request.method, request.path)
            return internal_error(error)

    return csrf_exempt(wrapped)


def reconnecting(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` again on a fresh database connection if the current one broke.

    Streams poll from worker threads whose connections outlive requests (Django closes
    connections at the end of a request, in the request's own thread only); a connection the
    database dropped in between is replaced once instead of ending the stream.
    """

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError):
            connection.close()
            return function(*args, **kwargs)

    return wrapped


# --- request parsing -------------------------------------------------------------------------

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(value: str | None, name: str = "", default: bool = False) -> bool:
    """Go's ``strconv.ParseBool``: ``1 t T TRUE true True`` and ``0 f F FALSE false False``.

    >>> parse_bool("True"), parse_bool("0"), parse_bool(None)
    (True, False, False)
    """
    if value is None or value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(
        f'strconv.ParseBool: parsing "{value}": invalid syntax' + (f" ({name})" if name else "")
    )


def parse_int(value: str | None, name: str) -> int | None:
    """An integer query parameter, or None when absent; a bad one is a 400."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f'strconv.ParseInt: parsing "{value}": invalid syntax ({name})') from None


def media_type(request: HttpRequest) -> str:
    """The request's Content-Type without parameters, lower-cased ("" when missing)."""
    raw = request.headers.get("Content-Type", "") or ""
    return raw.split(";", 1)[0].strip().lower()


def max_body_bytes() -> int:
    return int(settings.KUBARIUM.get("MAX_MANIFEST_BYTES", 3 * 1024 * 1024))


def raw_body(request: HttpRequest) -> bytes:
    body = request.body or b""
    limit = max_body_bytes()
    if len(body) > limit:
        raise RequestEntityTooLarge(f"Request entity too large: limit is {limit}")
    return body


def decode_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"error decoding JSON body: {error}") from None


def decode_yaml(data: bytes) -> Any:
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise BadRequest(f"error decoding YAML: {error}") from None


def object_body(request: HttpRequest) -> Any:
    """The object in a POST/PUT body: JSON (also when no Content-Type is given), YAML, or
    Kubernetes protobuf (kubectl 1.32's ``create <generator>``, §7.7)."""
    data = raw_body(request)
    kind = media_type(request)
    if kind == PROTOBUF:
        from cluster.api import protobuf

        return protobuf.decode(data)
    if kind in ("", JSON, "text/plain"):
        return decode_json(data) if data.strip() else None
    if kind in (YAML, "application/x-yaml", "text/yaml"):
        return decode_yaml(data)
    raise unsupported_media_type(kind, [JSON, YAML, PROTOBUF])


# --- the Accept header -----------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRange:
    type: str
    params: dict[str, str]


def parse_accept(header: str) -> list[MediaRange]:
    """``application/json;as=Table;v=v1;g=meta.k8s.io, application/json`` -> media ranges."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        ranges.append(MediaRange(pieces[0].lower(), params))
    return ranges


def _json_like(media: str) -> bool:
    return media in (JSON, "*/*", "application/*", PROTOBUF)


def conversion(request: HttpRequest) -> tuple[str, str]:
    """What the client asks the object to be converted to: ``("Table", "v1")``,
    ``("PartialObjectMetadata", "v1")`` (or the ``...List`` form), or ``("", "")`` for the
    plain object. The first range this server can produce wins, as in the apiserver's
    negotiation; a protobuf Table request falls through to the JSON ranges after it."""
    for media in parse_accept(request.headers.get("Accept", "")):
        target = media.params.get("as", "")
        if not target:
            if _json_like(media.type) and media.type != PROTOBUF:
                return "", ""
            continue
        if media.type != JSON or media.params.get("g") != "meta.k8s.io":
            continue
        version = media.params.get("v", "")
        if version not in ("v1", "v1beta1"):
            continue
        if target in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
            return target, version
    return "", ""
