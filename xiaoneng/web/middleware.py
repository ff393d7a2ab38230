from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
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
    """A NUL character in the path, the query string or a form field is a 400 naming the parameter,
    before any view sees it.

    PostgreSQL refuses NUL in text, so such a value that reached a query or a row was a 500 there
    (a region code in a dashboard path, an admin list filter, a window name, a region select),
    while SQLite quietly stored it. Django's form fields refuse NUL already; this covers what
    views read directly. JSON bodies are left to their endpoints, which answer per event or per
    field. NULs in the User-Agent are dropped: the login throttle stores it.
    """

    JSON_PREFIXES = ("/api/", "/public/complaints/sms/")
    OWN_ANSWER = ("/open311/",)  # refuses NUL itself, in GeoReport's error format (JSON or XML) naming the field

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("HTTP_USER_AGENT", ""):
            request.META["HTTP_USER_AGENT"] = request.META["HTTP_USER_AGENT"].replace("\x00", "")
        name = None if request.path.startswith(self.OWN_ANSWER) else self._holding_nul(request)
        if name is None:
            return self.get_response(request)
        return self._refuse(request, name)

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
        if request.path.startswith(self.JSON_PREFIXES):
            return JsonResponse({"detail": message, "errors": [{"field": name, "message": message, "code": "nul"}],
                                 "error": message, "field": name}, status=400, json_dumps_params={"ensure_ascii": False})
        return render(request, "400.html", {"problem": message}, status=400)


def axes_username(request, credentials=None) -> str | None:
    """The username the login throttle records (settings.AXES_USERNAME_CALLABLE): what was typed, cut to
    the 255 characters its table holds. Django's login form does not limit the username's length, so a
    300-character attempt failed to be recorded (a 500 on PostgreSQL) instead of failing as a login."""
    value = (credentials or {}).get("username") if credentials else getattr(request, "POST", {}).get("username")
    return value[:255] if isinstance(value, str) else value
