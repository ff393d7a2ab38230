from .log import acting_as
from .models import AuditEntry


def _channel(path: str) -> str:
    if path.startswith("/admin/"):
        return AuditEntry.Channel.ADMIN
    if path.startswith(("/api/", "/open311/")):
        return AuditEntry.Channel.API
    return AuditEntry.Channel.WEB


class AuditContextMiddleware:
    """Attribute audit entries written during a request to its user and channel."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        actor = user if getattr(user, "is_authenticated", False) else None
        with acting_as(actor, channel=_channel(request.path), ip=request.META.get("REMOTE_ADDR")):
            return self.get_response(request)
