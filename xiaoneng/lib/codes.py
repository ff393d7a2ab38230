"""Official identifiers: the unified social credit code (GB 32100-2015) and region codes.

Both validators raise Django's ValidationError with a message in the user's language,
so forms, the admin, imports and the API all report the same, specific reason.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 32100: 31 characters (no I, O, S, V, Z), weights 3**i mod 31.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# GB 11714: the 9-character organisation code embedded at positions 9..17.
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_CODE_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    total = sum(ORG_CODE_CHARSET.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_error(code: object) -> str | None:
    """Why `code` is not a valid unified social credit code, or None if it is."""
    if not isinstance(code, str):
        return _("统一社会信用代码必须是文本")
    if len(code) != 18:
        return _("统一社会信用代码应为18位，实际为%(n)d位") % {"n": len(code)}
    bad = sorted({c for c in code if c not in CREDIT_CHARSET})
    if bad:
        return _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z 及小写字母）") % {
            "chars": "".join(bad)
        }
    if not code[2:8].isdigit():
        return _("统一社会信用代码第3至8位应为行政区划代码（6位数字）")
    if credit_check_char(code[:17]) != code[17]:
        return _("统一社会信用代码校验位错误：应为 %(want)s，实际为 %(got)s") % {
            "want": credit_check_char(code[:17]),
            "got": code[17],
        }
    return None


def validate_credit_code(code: object) -> None:
    error = credit_code_error(code)
    if error:
        raise ValidationError(error, code="invalid_credit_code")


def make_credit_code(registrar: str, kind: str, region6: str, body8: str) -> str:
    """Build a valid code from its parts (used by the demo province and by tests)."""
    org = body8 + org_code_check_char(body8)
    first17 = registrar + kind + region6 + org
    return first17 + credit_check_char(first17)


def normalise_region_code(code: object) -> str:
    """A region code as the 12-digit statistical code (6-digit GB/T 2260 codes are padded)."""
    text = str(code).strip() if code is not None else ""
    if text.endswith(".0"):  # Excel hands numbers back as floats
        text = text[:-2]
    if len(text) in (6, 9) and text.isdigit():
        text = text.ljust(12, "0")
    return text


def region_code_error(code: object) -> str | None:
    text = normalise_region_code(code)
    if not text.isdigit() or len(text) != 12:
        return _("行政区划代码应为6位（GB/T 2260）或12位（统计用区划代码）数字：%(code)s") % {"code": code}
    if text[:2] in ("00",) or int(text[:2]) < 11:
        return _("行政区划代码的省级代码无效：%(code)s") % {"code": text[:2]}
    return None


def validate_region_code(code: object) -> None:
    error = region_code_error(code)
    if error:
        raise ValidationError(error, code="invalid_region_code")


def region_level(code12: str) -> int:
    """Level implied by a 12-digit code: trailing zero groups say how deep it is."""
    if code12[2:] == "0" * 10:
        return 1
    if code12[4:] == "0" * 8:
        return 2
    if code12[6:] == "0" * 6:
        return 3
    if code12[9:] == "000":
        return 4
    return 5
