from django.contrib import admin
from django.urls import include, path, re_path

from xiaoneng.orgs.import_views import import_page
from xiaoneng.portal import views as portal

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("xiaoneng.api.urls")),
    path("calendar/", include("xiaoneng.calendar.urls")),
    path("clocks/", include("xiaoneng.clocks.urls")),
    path("audit/", include("xiaoneng.audit.urls")),
    path("orgs/import/", import_page, name="orgs-import"),
    path("cases/", include("xiaoneng.approvals.urls")),
    path("public/", include("xiaoneng.approvals.public_urls")),
    path("supervision/", include("xiaoneng.supervision.urls")),
    path("complaints/", include("xiaoneng.complaints.urls")),
    path("public/complaints/", include("xiaoneng.complaints.public_urls")),
    path("public/accountability/", include("xiaoneng.accountability.public_urls")),
    path("ratings/window-qr/", portal.window_qr, name="window-qr"),
    path("ratings/", include("xiaoneng.complaints.rating_urls")),
    path("open311/v2/", include("xiaoneng.complaints.open311.urls")),
    path("documents/", include("xiaoneng.documents.urls")),
    path("accountability/", include("xiaoneng.accountability.urls")),
    path("exports/", include("xiaoneng.exports.urls")),
    path("appraisal/", include("xiaoneng.appraisal.urls")),
    path("dashboard/", include("xiaoneng.supervision.dashboard_urls")),
    path("inbox/", include("xiaoneng.inbox.urls")),
    path("surveys/", include("xiaoneng.surveys.urls")),
    path("public/surveys/", include("xiaoneng.surveys.public_urls")),
    path("public/appraisal/", include("xiaoneng.appraisal.public_urls")),
    path("public/", include("xiaoneng.portal.urls")),
    # Any other address under the public parts is the public 404 page, also with XIAONENG_DEBUG=1.
    re_path(r"^(?P<unmatched>(public|ratings/public)/.*)$", portal.not_found),
    path("", include("xiaoneng.web.urls")),
]

# Unmatched paths and errors under /api/ and /open311/ answer in the endpoint's format (JSON, or
# GeoReport's errors), everything else with the site's pages.
handler400 = "xiaoneng.web.middleware.bad_request"
handler403 = "xiaoneng.web.middleware.permission_denied"
handler404 = "xiaoneng.web.middleware.page_not_found"
handler500 = "xiaoneng.web.middleware.server_error"
