"""Is a case at risk? Yes when any open clock of the case — or, for a parallel
application, of any of its sub-cases — has reached its warning or its deadline."""
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q

from xiaoneng.clocks.models import Clock

from .models import Case


def _open_clocks_warned(now):
    return Clock.objects.filter(
        subject_type=ContentType.objects.get_for_model(Case), warn_at__lte=now
    ).exclude(state=Clock.State.STOPPED)


def at_risk_q(now) -> Q:
    """A filter for case querysets: the case or one of its sub-cases is at risk."""
    own = _open_clocks_warned(now).filter(subject_id=OuterRef("pk"))
    subs = _open_clocks_warned(now).filter(subject_id__in=Case.objects.filter(parent=OuterRef(OuterRef("pk"))).values("pk"))
    return Q(Exists(own)) | Q(Exists(subs))


def is_at_risk(case: Case, now) -> bool:
    return Case.objects.filter(pk=case.pk).filter(at_risk_q(now)).exists()
