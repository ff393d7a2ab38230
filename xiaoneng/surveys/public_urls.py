"""The respondent's side (no login), included by the project at /public/surveys/ (namespace "surveys-public")."""
from django.urls import path

from . import public_views

app_name = "surveys-public"

urlpatterns = [
    path("<slug:slug>/", public_views.entry, name="entry"),
    path("<slug:slug>/answer/", public_views.answer, name="answer"),
    path("<slug:slug>/done/", public_views.done, name="done"),
]
