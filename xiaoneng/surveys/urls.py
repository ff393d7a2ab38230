"""Survey staff pages, included by the project at /surveys/ (namespace "surveys")."""
from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/codes/", views.codes_export, name="codes"),
    path("<int:pk>/results/", views.results, name="results"),
]
