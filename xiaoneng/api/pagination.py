"""Page-number paging for every list: `?page=2&page_size=200` (PAGE_SIZE by default, at most 500).

DRF quietly falls back to the default for a malformed `page_size` and answers a
malformed `page` with 404; here both are 400s naming the parameter, so a client's typo
is reported rather than hidden. A page past the end stays 404, as in DRF.
"""
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 500


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [_("应为正整数，而不是“%(value)s”") % {"value": raw}]}, code="invalid") from None
    if value < 1:
        raise ValidationError({name: [_("应为正整数，而不是“%(value)s”") % {"value": raw}]}, code="min_value")
    return value


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        size = _positive_int(request, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            return paginator.num_pages
        return _positive_int(request, self.page_query_param) or 1
