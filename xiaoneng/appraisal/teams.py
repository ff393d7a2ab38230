"""Leadership teams (领导班子) and leading cadres (领导干部).

A scheme whose target is the team appraises each organ's leadership team: the holders of the organ's
leading posts (`orgs.Post.is_leading`). Its result is computed like an organ's (the same indicators over
the organ's records: a team answers for its organ's performance) and stands next to the organ's result of
the year. Who was on the team is recorded with the result (`LeadingCadre`, one row per leading cadre,
with the post held) when it is computed, and again on every recomputation until it is published — so a
cadre who moves later keeps the team result of the year in their personnel record, and a published
result's team never changes.
"""
from __future__ import annotations

from xiaoneng.orgs.models import Post

from .models import LeadingCadre, Period, Result


def leading_posts(organ_ids):
    return Post.objects.filter(organ_id__in=list(organ_ids), is_leading=True).prefetch_related("holders")


def record_cadres(period: Period) -> list[LeadingCadre]:
    """The team of each result of the period, as the leading posts are held now (three queries)."""
    results = {r.organ_id: r for r in Result.objects.filter(period=period)}
    LeadingCadre.objects.filter(result__period=period).delete()
    rows, seen = [], set()
    for post in leading_posts(results).order_by("organ_id", "title", "pk"):
        result = results[post.organ_id]
        for staff in post.holders.all():
            if staff.is_active and (result.pk, staff.pk) not in seen:
                seen.add((result.pk, staff.pk))
                rows.append(LeadingCadre(result=result, staff=staff, post_title=post.title))
    return LeadingCadre.objects.bulk_create(rows)
