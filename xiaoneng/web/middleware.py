from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: a strict Content-Security-Policy (every
    asset is served from the project, so nothing else is needed) and a
    Permissions-Policy that turns off device APIs the platform never uses."""

    CSP = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response


class ChineseFirstMiddleware:
    """Pages open in Chinese until the user picks English with the language switch.

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, and
    an office PC with an English browser would show the platform in English. The API
    and Open311 keep honouring Accept-Language, since their clients ask explicitly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(("/api/", "/open311/")):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NulGuardMiddleware:
    """Request parts no view can use are a 400 naming the part, before any view sees them, in the
    format of the URL's endpoint (JSON under /api/, GeoReport's errors under /open311/, a page
    elsewhere):

    * a NUL character in the path, the query string or a form field. PostgreSQL refuses NUL in text,
      so such a value that reached a query or a row was a 500 there (a region code in a dashboard
      path, an admin list filter, a window name, a region select), while SQLite quietly stored it.
      Django's form fields refuse NUL already; this covers what views read directly. JSON bodies are
      left to their endpoints, which answer per event or per field. NULs in the User-Agent are
      dropped: the login throttle stores it.
    * a Content-Length that is not a number: Django reads it with int() when a view reads the body
      (the exchange, every form POST), a ValueError and so a 500.
    * a Content-Type Django could not read (a NUL in its charset makes codecs.lookup raise
      ValueError while the request is being built, before any middleware; `GuardedWSGIRequest`
      notes it instead, and it is refused here).
    """

    JSON_PREFIXES = ("/api/", "/public/complaints/sms/")
    OWN_ANSWER = ("/open311/",)  # refuses NUL itself, in GeoReport's error format (JSON or XML) naming the field

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("HTTP_USER_AGENT", ""):
            request.META["HTTP_USER_AGENT"] = request.META["HTTP_USER_AGENT"].replace("\x00", "")
        header = self._bad_header(request)
        if header is not None:
            message = _("请求头 %(name)s 无效") % {"name": header}
            return error_response(request, 400, message, field=header, code="invalid_header")
        name = None if request.path.startswith(self.OWN_ANSWER) else self._holding_nul(request)
        if name is None:
            return self.get_response(request)
        return self._refuse(request, name)

    @staticmethod
    def _bad_header(request) -> str | None:
        if getattr(request, "unreadable_header", None):
            return request.unreadable_header
        length = request.META.get("CONTENT_LENGTH")
        if length not in (None, "") and not (length.isascii() and length.isdigit()):
            return "Content-Length"
        return None

    @staticmethod
    def _holding_nul(request) -> str | None:
        if "\x00" in request.path:
            return "path"
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                return name.replace("\x00", "")
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            # Read through the body, which a view reading it later finds again (or the same refusal
            # if it is too large: the view answers that itself). Multipart bodies (uploads) are not
            # read here; their text fields are Django form fields, which refuse NUL themselves.
            try:
                body = request.body
            except RequestDataTooBig:
                return None
            if b"%00" not in body and b"\x00" not in body:
                return None
            try:
                fields = request.POST.lists()
            except TooManyFieldsSent:
                return None
            for name, values in fields:
                if "\x00" in name or any("\x00" in v for v in values):
                    return name.replace("\x00", "")
        return None

    def _refuse(self, request, name: str):
        message = _("“%(name)s”含有 NUL 字符（\\x00），无法处理") % {"name": name}
        return error_response(request, 400, message, field=name, code="nul")


def error_response(request, status: int, message: str, *, field: str | None = None, code: str = "invalid"):
    """An error in the format of the endpoint the path belongs to: the API's `{"detail", "errors"}`
    under /api/ (and the SMS callback), GeoReport's error list under /open311/ (XML when the path asks
    for .xml), the site's error page elsewhere."""
    path = request.path
    if path.startswith(NulGuardMiddleware.JSON_PREFIXES):
        # The API's shape, plus the SMS callback's own `error` and `field`.
        return JsonResponse({"detail": message, "errors": [{"field": field, "message": message, "code": code}],
                             "error": message, "field": field or ""},
                            status=status, json_dumps_params={"ensure_ascii": False})
    if path.startswith(NulGuardMiddleware.OWN_ANSWER):
        from xiaoneng.complaints.open311 import formats

        fmt = "xml" if path.lower().endswith(".xml") else "json"
        return formats.error(fmt, status, f"{field}: {message}" if field else message)
    template = {403: "403.html", 404: "404.html", 500: "500.html"}.get(status, "400.html")
    try:
        return render(request, template, {"problem": message}, status=status)
    except Exception:  # the error page itself failed (a 500 whose cause also breaks templates)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class GuardedWSGIRequest(WSGIRequest):
    """Django's WSGI request, which notes a Content-Type it cannot read instead of raising while the
    request is built (outside every middleware and error handler, so the WSGI server answered a bare
    500): a NUL in the charset makes codecs.lookup raise ValueError. NulGuardMiddleware refuses it."""

    unreadable_header = None

    def _set_content_type_params(self, meta):
        try:
            super()._set_content_type_params(meta)
        except ValueError:
            self.content_type, self.content_params = "", {}
            self.unreadable_header = "Content-Type"


class GuardedWSGIHandler(WSGIHandler):
    request_class = GuardedWSGIRequest


def axes_username(request, credentials=None) -> str | None:
    """The username the login throttle records (settings.AXES_USERNAME_CALLABLE): what was typed, cut to
    the 255 characters its table holds. Django's login form does not limit the username's length, so a
    300-character attempt failed to be recorded (a 500 on PostgreSQL) instead of failing as a login."""
    value = (credentials or {}).get("username") if credentials else getattr(request, "POST", {}).get("username")
    return value[:255] if isinstance(value, str) else value


# --- error handlers (xiaoneng.urls: handler400/403/404/500) ----------------------------------
# Django answers an unmatched path, a refused request and an unhandled exception with the site's
# HTML pages; an API or Open311 client asked for JSON (or XML) and cannot read them. Paths under
# /api/ and /open311/ get the error in their own format, every other path the page as before.
def _own_format(request) -> bool:
    return request.path.startswith((*NulGuardMiddleware.JSON_PREFIXES, *NulGuardMiddleware.OWN_ANSWER))


def bad_request(request, exception):
    if _own_format(request):
        return error_response(request, 400, _("请求中有无法处理的内容"), code="bad_request")
    from django.views import defaults

    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _own_format(request):
        return error_response(request, 403, _("您没有执行该操作的权限。"), code="permission_denied")
    from django.views import defaults

    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _own_format(request):
        message = (_("没有这个接口：请从 discovery.json 开始") if request.path.startswith(NulGuardMiddleware.OWN_ANSWER)
                   else _("没有这个接口或资源：请查看 /api/v1/docs/"))
        return error_response(request, 404, message, code="not_found")
    from django.views import defaults

    return defaults.page_not_found(request, exception)


def server_error(request):
    if _own_format(request):
        return error_response(request, 500, _("服务器内部错误，请稍后再试"), code="server_error")
    from django.views import defaults

    return defaults.server_error(request)
