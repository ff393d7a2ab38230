"""Programme rules that vary by province: one place, documented defaults.

Every number the law leaves to the province (or that the efficiency office tunes) is
read through `rule(name)`. Defaults live in DEFAULTS below; a deployment overrides any
of them with a JSON file named by the XIAONENG_CONFIG_FILE environment variable, e.g.
`{"clock_warn_remaining_working_days": 3}`. Unknown keys in that file are an error, so
a typo cannot silently leave a default in force.
"""
import json
import math
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, object] = {
    # Clocks: warn when this many working days remain, or this share of the limit,
    # whichever comes first (issue: "2 working days or 20%") — but never while more than
    # `clock_warn_max_share` of the limit remains, so that a short clock does not warn the
    # moment it starts: with 0.5 a 2-day clock warns with one day left, a 3-day clock with
    # one, a 4-day clock with two, and a 1-day clock (its one day is its last) not separately.
    "clock_warn_remaining_working_days": 2,
    "clock_warn_share": 0.2,
    "clock_warn_max_share": 0.5,
    # Hour-unit clocks warn when this share of the limit remains (at least one hour, at most
    # `clock_warn_max_share` of the limit).
    "clock_warn_share_hours": 0.2,
    # The legal basis a near-deadline warning cites, per clock kind, over the built-in table
    # (xiaoneng.clocks.bases), e.g. the province's complaint rules:
    # {"complaint.acceptance": "《××省行政效能投诉处理办法》第十二条"}.
    "clock_legal_basis": {},
    # Monitoring loop: how many due clocks one worker claims per batch, and how long a
    # clock whose handler failed is pushed back before it is tried again (seconds).
    "monitor_batch_size": 500,
    "monitor_retry_seconds": 300,
    # Calendar: from this month-day on, supervisors are warned if next year is not loaded.
    "calendar_next_year_warning_from": "11-01",
    # Licensing law time limits (行政许可法). Working days.
    "licence_correction_notice_days": 5,
    "licence_decision_working_days": 20,
    "licence_extension_working_days": 10,
    "licence_joint_working_days": 45,
    "licence_joint_extension_working_days": 15,
    "licence_first_review_working_days": 20,
    "licence_certificate_working_days": 10,
    # Data exchange inbox: largest batch accepted, how long an out-of-order event may
    # wait for its predecessors before it is flagged, and from how many hours after
    # the fact an event counts as reported late.
    "exchange_batch_max_events": 1000,
    "exchange_hold_hours": 24,
    "exchange_late_hours": 24,
    "exchange_throttle_rate": "120/min",
    # Electronic supervision: deadline of an automatic supervision order (督办), and
    # per-rule level overrides, e.g. {"overdue_legal": "red"} (levels: warning, yellow, red).
    "supervision_order_working_days": 5,
    # How an efficiency office is named on the documents it issues ({region}: the region's name), and the
    # short name that opens its document numbers (广州市效能办督〔2026〕3号).
    "efficiency_office_name": "{region}机关效能建设领导小组办公室",
    "efficiency_office_short_name": "{region}效能办",
    "supervision_rule_levels": {},
    # Public case look-up: failed attempts allowed per client address and window (seconds).
    "public_lookup_max_failures": 10,
    "public_lookup_window_seconds": 600,
    # Complaints (provincial practice; defaults within the usual ranges).
    # Acceptance (accept or not, with reasons) in working days; handling by the organ in
    # `complaint_handling_unit` ("calendar" or "working"); a hotline work order instead in
    # hotline_order_working_days. Extensions need a supervisor and may add up to the max.
    "complaint_acceptance_working_days": 5,
    "complaint_handling_days": 30,
    "complaint_handling_unit": "calendar",
    "complaint_extension_max_days": 30,
    "complaint_sendback_working_days": 2,
    "hotline_order_working_days": 5,
    # After the reply, a dissatisfied complainant may ask for a review (复核) for this many days;
    # a replied complaint nobody appeals is closed when it has passed.
    "complaint_appeal_days": 15,
    # Open complaints with the same complainant phone and category, or the same text, within
    # this many days are flagged as possible duplicates.
    "complaint_duplicate_window_days": 30,
    "complaint_max_content_chars": 5000,
    # Pictures (JPEG, PNG) and PDFs a citizen may attach to a web complaint: how many, and how large each.
    "complaint_attachment_max_count": 3,
    "complaint_attachment_max_bytes": 5 * 1024 * 1024,
    # The organ whose short name this is receives a region's complaints (and owns the acceptance clock).
    "complaint_office_short_name": "效能办",
    # Category for complaints that arrive without one (SMS).
    "complaint_default_category": "other",
    # Public web form: submissions per client address per hour, per phone per day, and the
    # least seconds a person takes to fill it in (faster is a script).
    "complaint_web_per_address_hour": 5,
    "complaint_web_per_phone_day": 3,
    "complaint_web_min_fill_seconds": 3,
    # 好差评: a named bad review's rectification limit; how long the organ may appeal a review.
    "bad_review_rectification_working_days": 15,
    "rating_appeal_working_days": 5,
    # Open311 GeoReport v2: the one jurisdiction_id served; calls per client address per
    # minute; filings per API key per minute; largest POST body (bytes); GET requests' default
    # and longest date span (days) and most results; texts of the discovery document ("" =
    # the built-in Chinese text).
    "open311_jurisdiction": "gd.gov.cn",
    "open311_per_address_minute": 120,
    "open311_posts_per_key_minute": 60,
    "open311_max_body_bytes": 65536,
    "open311_list_days": 90,
    "open311_list_max": 1000,
    "open311_contact": "",
    "open311_key_service": "",
    # Public window-visit rating form (QR code at the counter): ratings per client address per hour.
    "window_rating_per_address_hour": 10,
    # Background exports (xiaoneng.exports): a list export of at least this many rows runs in the
    # background (`xiaoneng exports run`) instead of in the request (-1: never); progress is saved
    # every this many rows; a running job whose worker has not beaten for this many seconds is
    # taken over; after this many interrupted attempts it fails; files are kept this many days.
    "export_background_rows": 5000,
    "export_progress_rows": 10000,
    "export_stale_seconds": 120,
    "export_max_attempts": 3,
    "export_keep_days": 7,
    # Case registration at the counter (登记办件): the largest material file accepted, in bytes
    # (10 MB; the whole request is also bounded by the web server). Types are PDF, JPEG, PNG and OFD,
    # recognised by their content, never by the file name.
    "case_material_max_bytes": 10 * 1024 * 1024,
    # Appraisal (绩效考评; xiaoneng/appraisal/). Staff: at most this share of an organ's graded persons
    # are 优秀 (rounded down), the larger share when the organ's own published result of the year is
    # 优秀. Organs: working days to object to a provisional result; total-score thresholds of the
    # grades 优秀 / 良好 / 一般 (below `fair`: 较差).
    "appraisal_excellent_quota": 0.2,
    "appraisal_excellent_quota_when_organ_excellent": 0.25,
    "appraisal_objection_working_days": 5,
    "appraisal_grade_thresholds": {"excellent": 90, "good": 80, "fair": 60},
    # Public appraisal surveys (群众评议; xiaoneng/surveys/). Points of the five levels 非常满意, 满意,
    # 基本满意, 不满意, 非常不满意 (a respondent's satisfaction is the mean of his points); the least
    # seconds between opening the form and sending it (faster is a script); submissions per client
    # address per hour; one-time SMS codes per address per hour and per phone per day, how many
    # minutes a code is good for and how many wrong tries it takes; invitation codes per batch at most.
    "survey_level_points": [100, 75, 50, 25, 0],
    "survey_min_fill_seconds": 5,
    "survey_per_address_hour": 30,
    "survey_sms_per_address_hour": 5,
    "survey_sms_per_phone_day": 3,
    "survey_sms_code_minutes": 10,
    "survey_sms_code_attempts": 5,
    "survey_max_codes_per_batch": 2000,
    # The board's ranking chart shows every organ of a class up to twice this many; a larger class shows
    # the first and the last this many, with a link to the full score list.
    "appraisal_chart_ranking_n": 10,
    # Who issues the yearly appraisal report: the organ of the class's region with this short name, or,
    # where the region has none, an office named by `appraisal_office_name` ({region}: the region's name).
    "appraisal_office_short_name": "考评办",
    "appraisal_office_name": "{region}绩效考评委员会办公室",
    # Staff 平时考核: at most this share of an organ's persons graded in a quarter are 好 (rounded down;
    # provincial 平时考核 rules commonly ~40%). 复核 of a staff grade: asked within this many calendar
    # days of receiving the written notice (公务员法第九十五条: 30), decided by the appraisal office
    # within the decision limit (公务员申诉规定: 30 days of receiving the request) in its unit.
    "appraisal_quarter_good_quota": 0.4,
    "appraisal_staff_review_request_days": 30,
    "appraisal_staff_review_decision_days": 30,
    "appraisal_staff_review_decision_unit": "calendar",
    # 加减分 of one organ in one period: approved bonus points add up to at most `bonus`, deductions to
    # at most `deduction` (both positive numbers); an entry beyond the cap is refused, and the
    # computation caps the sum again (a cap lowered later still holds).
    "appraisal_adjustment_caps": {"bonus": 5, "deduction": 10},
    # Accountability (效能问责; xiaoneng/accountability/). A decision within this many months of
    # 立案, extendable once up to the longer limit (行政机关公务员处分条例第四十四条 practice: 6, 12);
    # an organisational adjustment (组织调整) carried out within this many months of the decision
    # (问责条例); the decision filed (备案) with the same-level supervisory organ within this many
    # working days (provinces differ). Appeals: 复核 asked within `review_request_days` of receipt
    # and decided within `review_decision_days`; 申诉 within `appeal_after_review_days` of the 复核
    # result (or `appeal_direct_days` of receipt), decided within `appeal_decision_days`, plus
    # `appeal_extension_days` for a complex case (公务员法第九十五、九十六条). Calendar days.
    "accountability_decision_months": 6,
    "accountability_decision_extended_months": 12,
    "accountability_adjustment_months": 1,
    "accountability_filing_working_days": 15,
    # The public 通报 of a decision shows persons as 张某 (True) or by full name (False).
    "accountability_bulletin_mask_names": True,
    "accountability_review_request_days": 30,
    "accountability_review_decision_days": 30,
    "accountability_appeal_after_review_days": 15,
    "accountability_appeal_direct_days": 30,
    "accountability_appeal_decision_days": 60,
    "accountability_appeal_extension_days": 30,
    # The province's own measures, added to the built-in table (accountability/measures.py), each
    # {"code", "label", "family" (organ|mild|organisational|sanction|efficiency), "rank", "months",
    # "effect_months", "legal_basis"}; and its own error-tolerance situations added to those of
    # 问责条例第十七条, each {"code", "label"}.
    "accountability_extra_measures": [],
    "accountability_extra_tolerance": [],
    # Escalation: the n-th decided measure of one kind for a person within one calendar year proposes
    # the next measure (and, with "leader", one for the unit's leadership), each
    # {"measure", "count", "propose", "leader": bool}; e.g. the third 效能告诫 proposes 诫勉.
    "accountability_escalation": [],
    # Evidence files on a proposal or with the findings (PDF, JPEG, PNG, judged by their content):
    # at most this many per submission, each at most this size.
    "accountability_evidence_max_count": 5,
    "accountability_evidence_max_bytes": 10 * 1024 * 1024,
    # Statistics pages (xiaoneng/web/stat_tables.py): a chart over organs or matters shows the first
    # and the last this many of the ranking; the full table is paged beneath it.
    "stats_chart_top_n": 10,
    # Filing with the level above (报上一级备案) besides the same-level supervisory organ, per measure:
    # "all" — whoever receives it; "leaders" — only a leading cadre (see below); a measure not listed —
    # same-level filing only. Defaults: the sanctions that end or take away the post (撤职, 开除), whose
    # appointment the organ above registers, and organisational measures on leading cadres, whose
    # decisions 问责条例 has reported to the organisation department above. Each filing has its own
    # clock of `accountability_filing_working_days`.
    "accountability_filing_above": {
        "removal": "all", "expulsion": "all",
        "suspend": "leaders", "reassign": "leaders", "resign": "leaders", "demote_post": "leaders",
        "dismiss_post": "leaders",
    },
    # Who is a leading cadre (领导干部) for that rule: a person held with one of `responsibilities`
    # (主要 / 重要领导责任), or whose 职务职级 contains one of `rank_words` and none of `not_rank_words`
    # (一级主任科员 is a grade, not a leading post).
    "accountability_leading_cadre": {
        "responsibilities": ["main_leader", "important_leader"],
        "rank_words": ["长", "书记", "主任", "主席"],
        "not_rank_words": ["科员", "调研员", "巡视员", "办事员"],
    },
    # The public 通报 page (/public/accountability/) names persons as 张某 (True) or in full (False).
    "accountability_public_mask_names": True,
}


@cache
def _overrides() -> dict[str, object]:
    path = getattr(settings, "XIAONENG_CONFIG_FILE", "")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"XIAONENG_CONFIG_FILE {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"XIAONENG_CONFIG_FILE {path}: the file must hold one JSON object of rule: value")
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"XIAONENG_CONFIG_FILE {path}: unknown rules {', '.join(unknown)}")
    wrong = [f"{name} ({why})" for name, value in data.items() if (why := _unfit(name, value))]
    if wrong:
        raise ImproperlyConfigured(f"XIAONENG_CONFIG_FILE {path}: wrong values: {'; '.join(wrong)}")
    return data


# Rules that are shares of a whole: a province writing 20 for 20% would otherwise make everybody 优秀.
SHARES = {"clock_warn_share", "clock_warn_max_share", "clock_warn_share_hours", "appraisal_excellent_quota",
          "appraisal_excellent_quota_when_organ_excellent", "appraisal_quarter_good_quota"}


def _unfit(name: str, value) -> str:
    """Why `value` cannot stand for the rule `name` (its default's kind decides), or ''. Checked when the
    file is read, so a wrong value stops the platform at start-up instead of failing one request later."""
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else "true or false expected"
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "a number expected"
        if isinstance(default, int) and not isinstance(value, int) and name not in SHARES:
            return "a whole number expected"
        if name in SHARES and not 0 <= value <= 1:
            return "a share between 0 and 1 expected (0.2 for 20%)"
        return ""
    for kind, words in ((str, "text"), (dict, "an object"), (list, "a list")):
        if isinstance(default, kind):
            return "" if isinstance(value, kind) else f"{words} expected"
    return ""


def rule(name: str):
    """The value in force for one programme rule."""
    if name not in DEFAULTS:
        raise KeyError(f"unknown programme rule {name!r}")
    overrides = getattr(settings, "XIAONENG_RULES", None) or {}
    if name in overrides:
        return overrides[name]
    return _overrides().get(name, DEFAULTS[name])
