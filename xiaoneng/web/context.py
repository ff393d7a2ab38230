def shell(request):
    """Navigation and banners for the page shell; filled in by xiaoneng.web.nav."""
    from .nav import shell_context

    return shell_context(request)
