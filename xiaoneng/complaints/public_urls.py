"""The complainant's side (no login), included by the project at /public/complaints/ (namespace "complaints-public")."""
app_name = "complaints-public"

urlpatterns: list = []
