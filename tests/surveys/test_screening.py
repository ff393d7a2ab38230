"""Free text is screened for personal data before anyone reads it; the raw text is not kept."""
import pytest

from xiaoneng.lib.pii import screen
from xiaoneng.surveys.models import Answer


@pytest.mark.parametrize(("text", "shown"), [
    ("有事请打13812345678联系", "有事请打[电话]联系"),
    ("电话 138 1234 5678。", "电话 [电话]。"),
    ("+86 138-1234-5678", "[电话]"),
    ("座机020-83331234", "座机[电话]"),
    ("身份证11010519491231002X办不了", "身份证[身份证号]办不了"),
    ("身份证 440106199001011234", "身份证 [号码]"),  # a wrong check digit: still somebody's number
    ("卡号6222021234567890128退款", "卡号[银行卡号]退款"),
    ("卡号 6222 0212 3456 7890 128", "卡号 [银行卡号]"),
    ("请发邮件到 zhang.san@example.com 谢谢", "请发邮件到 [邮箱] 谢谢"),
    ("我叫张三丰，窗口态度差", "我叫[姓名]，窗口态度差"),
    ("本人李四，多次跑腿", "本人[姓名]，多次跑腿"),
    ("联系人：陈小红 020-83331234", "联系人：[姓名] [电话]"),
    ("我是欧阳娜娜", "我是[姓名]"),
    ("姓名：王小明", "姓名：[姓名]"),
    ("手机１３８１２３４５６７８", "手机[电话]"),
])
def test_each_kind_of_personal_data_is_masked(text, shown):
    assert screen(text) == shown


def test_words_after_a_self_introduction_that_are_no_name_are_left_alone():
    assert screen("本人多次去办事，我是企业主") == "本人多次去办事，我是企业主"
    assert screen("办理时限20个工作日，收费100元") == "办理时限20个工作日，收费100元"


def test_an_id_number_is_recognised_by_its_check_digit():
    assert screen("11010519491231002X") == "[身份证号]"
    assert screen("110105194912310021") == "[号码]"  # same digits, wrong check character


def test_a_submitted_comment_is_stored_only_screened(poll):
    poll.open()
    raw = "我叫张三丰，电话13812345678，身份证11010519491231002X，邮箱zs@example.com，卡号6222021234567890128"
    response = poll.answer({poll.w.tianhe_bureau: 4}, {poll.w.tianhe_bureau: raw})
    stored = Answer.objects.get(response=response, question=poll.comment)
    assert stored.screened_text == "我叫[姓名]，电话[电话]，身份证[身份证号]，邮箱[邮箱]，卡号[银行卡号]"
    for secret in ("张三丰", "13812345678", "11010519491231002X", "zs@example.com", "6222021234567890128"):
        assert not Answer.objects.filter(screened_text__contains=secret).exists()
