"""Official identifiers: unified social credit codes (GB 32100) and region codes (GB/T 2260)."""
import pytest
from django.core.exceptions import ValidationError

from xiaoneng.lib.codes import (
    credit_check_char,
    credit_code_error,
    make_credit_code,
    normalise_region_code,
    region_code_error,
    region_level,
    validate_credit_code,
    validate_region_code,
)

# Credit codes of real government bodies, as published:
# - 中共广东省委宣传部 (named with its code in a public repository's data file);
# - 中华人民共和国交通运输部, whose code heads the national e-licence type codes it defines
#   (e.g. 11100000000019713D008 道路运输经营许可证);
# - four Guangdong bodies (province, 梅州市, 惠州市, 中山市) listed in a public
#   repository's configuration.
REAL_CREDIT_CODES = [
    "11440000006939561H",
    "11100000000019713D",
    "114400000069401674",
    "11441400007208381Y",
    "11441300007188069T",
    "114420000073327379",
]


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_it_accepts_real_published_government_credit_codes(code):
    assert credit_code_error(code) is None
    validate_credit_code(code)


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_it_rejects_a_credit_code_with_a_wrong_check_character(code):
    wrong = "1" if code[-1] != "1" else "2"
    error = credit_code_error(code[:-1] + wrong)
    assert "校验位" in error
    assert code[-1] in error  # the message says which character was expected


def test_it_rejects_a_lowercase_credit_code():
    assert "不允许的字符" in credit_code_error("11440000006939561h")


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_it_rejects_the_forbidden_letters(letter):
    code = "1144000000693956" + letter + "H"
    error = credit_code_error(code)
    assert "不允许的字符" in error and letter in error


@pytest.mark.parametrize("code", ["", "1144000000693956", "11440000006939561", "11440000006939561HH"])
def test_it_rejects_a_credit_code_of_the_wrong_length(code):
    assert "18位" in credit_code_error(code)


def test_it_rejects_a_credit_code_that_is_not_text():
    assert credit_code_error(114400000069401674) is not None


def test_it_wants_digits_where_the_registering_region_goes():
    first17 = "11ABCDEF006939561"
    assert "行政区划代码" in credit_code_error(first17 + credit_check_char(first17))


def test_the_validator_raises_a_validation_error_with_the_reason():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("11440000006939561A")
    assert "校验位" in exc.value.messages[0]


def test_make_credit_code_builds_a_valid_code_around_its_parts():
    code = make_credit_code("1", "2", "440106", "XN000180")
    assert credit_code_error(code) is None
    assert code.startswith("12440106XN000180")


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("440000000000", 1),
        ("440100000000", 2),
        ("440106000000", 3),
        ("440106006000", 4),  # 石牌街道
        ("440106006001", 5),
        ("441900003000", 4),  # 东莞市东城街道: a township straight under its city
    ],
)
def test_the_level_of_a_region_follows_from_its_code(code, level):
    assert region_code_error(code) is None
    assert region_level(code) == level


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("440106", "440106000000"), ("440106006", "440106006000"), (440100000000, "440100000000"),
     ("440100000000.0", "440100000000"), (" 440106 ", "440106000000")],
)
def test_it_pads_gb_t_2260_codes_and_excel_numbers_to_twelve_digits(raw, normalised):
    assert region_code_error(raw) is None
    assert normalise_region_code(raw) == normalised


@pytest.mark.parametrize("raw", ["4401", "44010", "4401060", "44010600100", "4401060010010", "44o106", "", None])
def test_it_rejects_region_codes_of_the_wrong_shape(raw):
    assert "行政区划代码" in region_code_error(raw)


@pytest.mark.parametrize("raw", ["000000000000", "090000000000"])
def test_it_rejects_a_region_code_without_a_real_province(raw):
    assert "省级代码" in region_code_error(raw)


def test_the_region_validator_raises_a_validation_error():
    with pytest.raises(ValidationError):
        validate_region_code("12345")
