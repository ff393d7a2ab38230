def shell_context(request):
    return {}
