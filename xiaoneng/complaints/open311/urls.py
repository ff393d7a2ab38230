"""Open311 GeoReport v2, included by the project at /open311/v2/ (namespace "open311")."""
app_name = "open311"

urlpatterns: list = []
