"""Page-number paging for every list: `?page=2&page_size=200` (PAGE_SIZE by default, at most 500).

DRF quietly falls back to the default for a malformed `page_size` and answers a
malformed `page` with 404; here both are 400s naming the parameter, so a client's typo
is reported rather than hidden, and so is an empty value (`?page=`), as for every other
parameter. A page past the end stays 404, as in DRF (documented on every list). A
`page_size` above 500 is served 500 a page, as the schema says. DRF's `page=last` is not
offered: the schema says a page is a positive integer, and the server agrees.
"""
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 500


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw == "":
        raise ValidationError({name: [_("不能为空：不需要时请省略该参数")]}, code="blank")
    # int() also takes " 12 ", "+12", "1_2" and "١٢"; the schema's integer does not. More digits
    # than int() converts by default (4300) is simply a very large number: past the last page.
    value = 0
    if raw.isascii() and raw.isdigit():
        significant = raw.lstrip("0")
        value = int(significant or "0") if len(significant) <= 18 else 10**18
    if value < 1:
        raise ValidationError({name: [_("应为正整数，而不是“%(value)s”") % {"value": raw}]}, code="invalid")
    return value


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()

    def get_page_size(self, request):
        size = _positive_int(request, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        return _positive_int(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view):
        """DRF's two parameters with the limits enforced above."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"每页条数，默认 {self.page_size}，大于 {MAX_PAGE_SIZE} 时按 {MAX_PAGE_SIZE} / "
                    f"results per page (default {self.page_size}; above {MAX_PAGE_SIZE} gives {MAX_PAGE_SIZE})")
            else:
                parameter["description"] = "页码，从 1 起；超过末页为 404 / page number from 1; past the last page: 404"
        return parameters
