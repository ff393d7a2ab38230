"""The yearly appraisal report (年度绩效考评情况通报): issued by the appraisal office once all classes of the
region's year are published, stored, and saying per class the ranking, grades, indicators and objections."""
import io

import pypdf
import pytest
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.documents.actions import DocumentError, do_issue_document, read_document
from xiaoneng.documents.models import Document

from .conftest import TREE, at, publish_year


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(document) -> str:
    reader = pypdf.PdfReader(io.BytesIO(read_document(document)))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def test_the_report_ranks_grades_sums_up_and_lists_the_objections_decided(published):
    document = do_issue_document("appraisal.report", published.period, at=at("2027-01-20T10:00"))
    assert document.number == "广州市考评办考〔2027〕1号"
    assert document.issuer_name == "广州市绩效考评委员会办公室"
    text = text_of(document)
    for expected in ("广州市绩效考评委员会办公室", document.number, "年度绩效考评情况通报", "各参评机关：",
                     "2026年度", "区县市场监管局：排名与等次", "广州市越秀区市场监督管理局", "90.00", "优秀",
                     "广州市天河区市场监督管理局", "48.00", "较差",
                     "区县市场监管局：一级指标得分情况", "1办件效能", "65.00",  # class average of 办件效能
                     "区县市场监管局：异议处理情况", "异议不成立", "数据来源于办件系统，异议不成立",
                     "共受理异议1件，其中成立0件、不成立1件", "2027年1月20日"):
        assert expected in text, expected
    # Issued once per region and year: asked again from the same period, the same document.
    assert do_issue_document("appraisal.report", published.period) == document


def test_it_waits_until_every_class_of_the_year_is_published(published, world):
    other = actions.do_create_class(name="市直单位", region=world.gz, organs=[world.gz_bureau])
    scheme = actions.do_create_scheme(organ_class=other, year=2026, title="2026年市直单位方案",
                                      rows=[dict(r) for r in TREE])
    period = actions.do_activate_scheme(scheme)
    with pytest.raises(DocumentError):
        do_issue_document("appraisal.report", published.period, at=at("2027-01-20T10:00"))
    publish_year(published, period, 2026)
    text = text_of(do_issue_document("appraisal.report", published.period, at=at("2027-01-20T10:00")))
    assert "市直单位：排名与等次" in text and "广州市市场监督管理局" in text and "2个考评类别、3个机关" in text


def test_the_office_issues_it_from_the_board_and_others_cannot(published, login):
    w = published.w
    url = reverse("documents:issue", args=["appraisal.report", "appraisal", published.period.pk])
    assert login(w.county_leader).post(url).status_code == 404
    assert login(w.outsider).post(url).status_code == 404
    board = login(w.appraisal_officer).get(reverse("appraisal:board", args=[published.period.pk])).content.decode()
    assert url in board
    assert login(w.appraisal_officer).post(url).status_code == 302
    document = Document.objects.get(kind="appraisal.report")
    download = reverse("documents:download", args=[document.pk])
    assert download in login(w.appraisal_officer).get(reverse("appraisal:board", args=[published.period.pk])).content.decode()
    assert login(w.city_supervisor).get(download).status_code == 200
    for persona in ("county_leader", "outsider", "county_handler", "shenzhen_handler"):
        assert login(getattr(w, persona)).get(download).status_code == 404, persona
