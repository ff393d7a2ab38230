from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("xiaoneng.api.urls")),
    path("calendar/", include("xiaoneng.calendar.urls")),
    path("clocks/", include("xiaoneng.clocks.urls")),
    path("audit/", include("xiaoneng.audit.urls")),
    path("", include("xiaoneng.web.urls")),
]
