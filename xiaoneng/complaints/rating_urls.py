"""好差评 pages, included by the project at /ratings/ (namespace "ratings")."""
app_name = "ratings"

urlpatterns: list = []
