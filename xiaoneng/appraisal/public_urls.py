"""Published appraisal rankings on the public site, included by the project at /public/appraisal/ (no login)."""
from django.urls import path

from . import public_site

app_name = "appraisal-public"

urlpatterns = [
    path("", public_site.public_list, name="list"),
    path("<int:pk>/", public_site.public_detail, name="detail"),
    path("surveys/<int:pk>/", public_site.public_survey, name="survey"),
]
