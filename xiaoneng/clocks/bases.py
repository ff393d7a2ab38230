"""The legal basis of each kind of clock: what a warning about it cites.

A clock kind has its own basis (the approval decision Art. 42 of the Administrative
Licensing Law, the first review Art. 43, the certificate Art. 44, the correction notice
Art. 32, a complaint the province's complaint rules, a supervision order the order
rules …). `basis_of(clock)` answers, first match wins:

1. `clock_legal_basis` in xiaoneng.conf, per kind (a province names its own complaint rules);
2. the basis recorded on the clock when it was started (`Clock.legal_basis`: a supervision
   order's own basis, a matter's legal basis);
3. the table below;
4. "" (a kind nobody has described: no basis is better than a wrong one).

Citations are stored with the alert in the platform's first language, as the rules' are.
"""
from __future__ import annotations

from xiaoneng.conf import rule

BASES: dict[str, str] = {
    "case.legal": "《行政许可法》第四十二条",
    "case.joint": "《行政许可法》第四十二条第二款",
    "case.subcase": "《行政许可法》第四十二条第二款",
    "case.promise": "本机关公开承诺（《行政许可法》第四十二条）",
    "case.step": "本机关办理流程",
    "case.first_review": "《行政许可法》第四十三条",
    "case.correction": "《行政许可法》第三十二条",
    "case.certificate": "《行政许可法》第四十四条",
    "complaint.acceptance": "效能投诉受理规定",
    "complaint.handling": "效能投诉办理规定",
    "rating.rectification": "政务服务“好差评”制度",
    "supervision.order": "效能督办制度",
    "appraisal.staff_review_request": "《公务员考核规定》；《中华人民共和国公务员法》第九十五条",
    "appraisal.staff_review": "《公务员考核规定》；《公务员申诉规定》",
}


def configured() -> dict[str, str]:
    """The per-kind overrides in force (read once per batch by callers that handle many clocks)."""
    return rule("clock_legal_basis") or {}


def basis_of(clock, overrides: dict[str, str] | None = None) -> str:
    overrides = configured() if overrides is None else overrides
    return overrides.get(clock.kind) or (clock.legal_basis or "").strip() or BASES.get(clock.kind, "")
