"""REST API v1: read-only, scoped resources, the deadline calculator, and the OpenAPI docs.

The Swagger page loads its start-up script as a separate file (SpectacularSwaggerSplitView)
because the site's Content-Security-Policy forbids inline scripts; Redoc uses a
template without the Google Fonts links, so both pages use only local assets.
"""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from .views.accountability import AccountabilityCaseViewSet
from .views.accountability_proposals import AccountabilityProposalViewSet
from .views.appraisal import PeriodViewSet, RankingViewSet, ResultViewSet, SchemeViewSet
from .views.calendar import CalendarDayViewSet, DeadlineView
from .views.clocks import ClockViewSet
from .views.complaints import ComplaintViewSet
from .views.orgs import OrganViewSet, RegionViewSet, StaffViewSet

router = SimpleRouter()
router.register("regions", RegionViewSet, basename="api-region")
router.register("organs", OrganViewSet, basename="api-organ")
router.register("staff", StaffViewSet, basename="api-staff")
router.register("clocks", ClockViewSet, basename="api-clock")
router.register("calendar/days", CalendarDayViewSet, basename="api-calendar-day")
router.register("complaints", ComplaintViewSet, basename="api-complaint")
router.register("accountability/cases", AccountabilityCaseViewSet, basename="api-accountability-case")
router.register("appraisal/schemes", SchemeViewSet, basename="api-appraisal-scheme")
router.register("appraisal/periods", PeriodViewSet, basename="api-appraisal-period")
router.register("appraisal/results", ResultViewSet, basename="api-appraisal-result")
router.register("appraisal/rankings", RankingViewSet, basename="api-appraisal-ranking")
router.register("accountability/proposals", AccountabilityProposalViewSet, basename="api-accountability-proposal")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"), name="api-redoc"),
    path("deadline/", DeadlineView.as_view(), name="api-deadline"),
    path("", include("xiaoneng.approvals.exchange.api")),
    *router.urls,
]
