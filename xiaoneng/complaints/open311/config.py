"""The Open311 interface's settings: programme rules in xiaoneng.conf (`open311_*`).

* open311_jurisdiction ("gd.gov.cn"): the one jurisdiction_id this endpoint serves; a
  request naming another gets 404 "jurisdiction_id not found". Omitting it is allowed
  (the spec makes it optional for endpoints that serve one jurisdiction).
* open311_per_address_minute (120): calls of any kind from one client address per
  minute; past it, 429 in the error format.
* open311_posts_per_key_minute (60): service requests filed with one API key per minute.
* open311_max_body_bytes (65536): largest POST body; larger is 413.
* open311_list_days (90), open311_list_max (1000): GET requests without dates covers the
  last 90 days; a date range may span at most 90 days; at most 1000 are returned.
* open311_contact, open311_key_service: texts of the discovery document.
"""
from django.utils.translation import gettext as _

from xiaoneng.conf import rule


def jurisdiction() -> str:
    return str(rule("open311_jurisdiction"))


def limit(name: str) -> int:
    return int(rule(f"open311_{name.lower()}"))


def contact() -> str:
    return rule("open311_contact") or _("省党政机关效能建设办公室（效能投诉中心）")


def key_service() -> str:
    return rule("open311_key_service") or _("接口密钥由效能办发放：请联系系统管理员（xiaoneng open311-key create 名称）")
