"""What every API view shares: scoping, validated query parameters, paging, errors.

A detail view 404s for an object outside the user's scope exactly as for one that
does not exist, because `get_queryset` is already scoped and DRF's `get_object`
looks only there. Lists are filtered after scoping, never before, so no filter can
widen what a user sees.
"""
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError

from xiaoneng.orgs import access

from ..errors import ErrorFormatMixin
from ..pagination import ApiPagination


def read_params(params_class: type[serializers.Serializer], query_params) -> dict:
    """Validate query parameters with `params_class`; a ValidationError becomes a 400.

    The QueryDict is turned into a plain dict first: DRF reads a missing boolean in
    form-style input as False (an unticked checkbox), which would make `?overdue`
    filters apply when nobody asked for them. An empty value (`?region=`) is a 400 naming
    the parameter, as the schema says (each parameter has a type, a pattern or a choice
    that "" does not meet): a filter silently ignored would show more than was asked for.
    """
    fields = params_class().fields
    data, empty = {}, {}
    for key in query_params:
        field = fields.get(key)
        if field is None:
            continue
        values = query_params.getlist(key)
        if any(v == "" for v in values):
            empty[key] = [_("不能为空：不需要时请省略该参数")]
        elif isinstance(field, serializers.ListField):
            data[key] = values
        else:
            data[key] = values[-1]
    if empty:
        raise ValidationError(empty, code="blank")
    ser = params_class(data=data)
    ser.is_valid(raise_exception=True)
    return ser.validated_data


class HasPerm(permissions.BasePermission):
    """Allow a user one of whose grants carries `view.perm` (for endpoints without rows)."""

    message = _("您没有使用此功能的权限。")

    def has_permission(self, request, view):
        return access.has_perm(request.user, view.perm)


class ScopedReadOnlyViewSet(ErrorFormatMixin, viewsets.ReadOnlyModelViewSet):
    """List and detail of one model, limited to the user's scope for `perm`.

    Subclasses give `base_queryset()` (with select/prefetch for the action) and
    `filter_list(qs, params)` for the list's query parameters (`params_class`); one whose scope is
    not a single permission overrides `scoped_queryset()`.
    """

    perm: str = ""
    params_class: type[serializers.Serializer] | None = None
    pagination_class = ApiPagination
    lookup_value_regex = r"\d+"

    def base_queryset(self):
        raise NotImplementedError

    def scoped_queryset(self, queryset):
        return access.scoped(queryset, self.request.user, self.perm)

    def filter_list(self, queryset, params: dict):
        return queryset

    def params(self) -> dict:
        if not hasattr(self, "_params"):
            self._params = read_params(self.params_class, self.request.query_params) if self.params_class else {}
        return self._params

    def get_queryset(self):
        queryset = self.base_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no rows
            return queryset.none()
        queryset = self.scoped_queryset(queryset)
        if self.action == "list":
            queryset = self.filter_list(queryset, self.params())
        return queryset

    def list(self, request, *args, **kwargs):
        self.params()  # a bad parameter is a 400 before any query runs
        return super().list(request, *args, **kwargs)
