"""Staff complaint pages, included by the project at /complaints/ (namespace "complaints")."""
app_name = "complaints"

urlpatterns: list = []
