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
