"""The GeoReport v2 discovery document: where the endpoint is and what it speaks."""
from django.urls import reverse

from . import config

# When this interface last changed in a way clients should notice (the spec's changeset).
CHANGESET = "2026-11-28T00:00:00+08:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def document(request) -> dict:
    services = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "json"}))
    return {
        "changeset": CHANGESET,
        "contact": config.contact(),
        "key_service": config.key_service(),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": services.rsplit("/", 1)[0],
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
