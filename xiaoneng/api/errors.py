"""One error shape for the whole API: `{"errors": [{"field": ..., "message": ..., "code": ...}]}`.

DRF reports validation errors as a nested dict keyed by field; clients (and the
`xiaoneng deadline` command's users) want a flat list that names each field and says
why, in the user's language. Other API errors (401/403/404/405/429) keep DRF's
`detail` and carry the same `errors` list with `field` null, so a client can always
read `errors`.

Enable for every API view with, in settings.py::

    REST_FRAMEWORK["EXCEPTION_HANDLER"] = "xiaoneng.api.errors.api_exception_handler"

The views in this package also apply it themselves (`ErrorFormatMixin`), so they keep
this shape whatever the setting says.
"""
from __future__ import annotations

from collections.abc import Iterator

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from xiaoneng.clocks.calculator import CalculatorError


def flatten(detail, field: str | None = None) -> Iterator[dict]:
    """DRF's nested error detail as a flat list of {field, message, code}.

    Nested fields are joined with dots (`pauses.0.first`); non-field errors keep the
    enclosing field, or null at the top.
    """
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "detail"):
                name = field
            else:
                name = f"{field}.{key}" if field else str(key)
            yield from flatten(value, name)
    elif isinstance(detail, list | tuple):
        for item in detail:
            yield from flatten(item, field)
    else:
        yield {"field": field, "message": str(detail), "code": getattr(detail, "code", None) or "invalid"}


def _as_drf(exc: Exception) -> Exception:
    """Errors raised below the API layer that are the caller's fault become 400s."""
    if isinstance(exc, CalculatorError):
        return ValidationError({exc.field: [exc.message]}, code="invalid")
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return ValidationError({k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()})
        return ValidationError(exc.messages)
    return exc


def api_exception_handler(exc: Exception, context: dict):
    exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:  # not an API error: let Django report the 500
        return None
    if isinstance(exc, ValidationError):
        response.data = {"errors": list(flatten(exc.detail))}
    else:
        data = response.data if isinstance(response.data, dict) else {"detail": response.data}
        errors = list(flatten(data.get("detail", data)))
        response.data = {**data, "errors": errors}
    return response


class ErrorFormatMixin:
    """Use the API's error shape on this view regardless of settings."""

    def get_exception_handler(self):
        return api_exception_handler


# --- OpenAPI description of the error body ---------------------------------------------
class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="出错的参数或字段 / offending parameter (null: none)")
    message = serializers.CharField(help_text="原因（用户语言）/ reason, in the user's language")
    code = serializers.CharField(help_text="机器可读代码 / machine-readable code")


class ErrorResponseSerializer(serializers.Serializer):
    errors = ErrorItemSerializer(many=True)


class DetailErrorResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


def bad_parameter_example(field: str, message: str) -> OpenApiExample:
    """A documented 400 for one endpoint: which parameter, and why."""
    return OpenApiExample(
        "参数错误 Bad parameter",
        value={"errors": [{"field": field, "message": message, "code": "invalid"}]},
        response_only=True,
        status_codes=[str(status.HTTP_400_BAD_REQUEST)],
    )


def error_responses(bad_request: bool = True, not_found: bool = False) -> dict:
    """The error part of an `extend_schema(responses=...)` mapping."""
    out = {
        401: DetailErrorResponseSerializer,
        403: DetailErrorResponseSerializer,
        429: DetailErrorResponseSerializer,  # the API's rate limits (anon/user), with Retry-After
    }
    if bad_request:
        out[400] = ErrorResponseSerializer
    if not_found:
        out[404] = DetailErrorResponseSerializer
    return out
