"""The public front door: one page that leads to every public service, and public 404s in the user's language."""
import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ

# Where the public (no login) parts of the site live: their 404s are the public page, never Django's debug page.
PUBLIC_PREFIXES = ("/public/", "/ratings/public/")


def home(request):
    from xiaoneng.appraisal.public_site import anything_public

    # The appraisal results card shows only when some office has put a ranking or a survey's results on the site.
    return render(request, "portal/home.html", {"appraisal_results": anything_public()})


def not_found(request, exception=None, unmatched: str = ""):
    return render(request, "portal/not_found.html", status=404)


class PublicNotFoundMiddleware:
    """A Http404 raised by a public view shows the public 404 page, also with XIAONENG_DEBUG=1."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and request.path.startswith(PUBLIC_PREFIXES):
            return not_found(request)
        return None


class WindowForm(forms.Form):
    organ = forms.ModelChoiceField(label=_("机关"), queryset=Organ.objects.none())
    window = forms.CharField(label=_("窗口"), max_length=40, help_text=_("例如：3号窗口"))

    def __init__(self, *args, organs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = organs

    def clean_window(self):
        window = self.cleaned_data["window"].strip()
        if not window.isprintable() or "/" in window:
            raise forms.ValidationError(_("窗口名称不能包含斜杠或控制字符。"))
        return window


@login_required
def window_qr(request):
    """A printable card with the QR code that opens a window's rating page (好差评, offline service)."""
    if not access.has_perm(request.user, "rating.respond"):
        raise PermissionDenied
    organs = access.scoped(Organ.objects.filter(is_active=True), request.user, "rating.respond").order_by("name")
    form = WindowForm(request.GET or None, organs=organs)
    context = {"form": form}
    if form.is_valid():
        organ, window = form.cleaned_data["organ"], form.cleaned_data["window"]
        url = request.build_absolute_uri(reverse("ratings:public-window", args=[organ.pk, window]))
        context.update(organ=organ, window=window, url=url,
                       qr_svg=segno.make(url, error="m").svg_inline(scale=6, dark="#111", omitsize=True))
    return render(request, "portal/window_qr.html", context)
