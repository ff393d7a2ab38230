"""API views, one module per area; every queryset passes through xiaoneng.orgs.access."""
