"""fixtures/published_figures.yaml against its sources: verbatim quotes, numbers in their quotes, links that resolve,
and a loader that is idempotent and all-or-nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from indicators.models import Indicator
from planning.loading import FixtureError, LoadReport
from published.loading import YEAR_RANGE, load_published_figures, written_value
from published.models import PublishedFigure, Qualifier
from regions.models import Region

FIXTURES: Path = settings.PLAN_FIXTURES_DIR
FILE = FIXTURES / "published_figures.yaml"
DATA: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))
FIGURES: list[dict[str, Any]] = DATA["figures"]
SOURCES = {"000_f27e5a5d96fe759c.txt", "001_cc810da57576b0cd.txt", "003_3f123324ae361caf.txt"}
TEXTS = {name: (FIXTURES / "sources" / name).read_text(encoding="utf-8") for name in SOURCES}
LESHAN_CODES = {"511100"} | {
    child["code"]
    for region in yaml.safe_load((FIXTURES / "regions.yaml").read_text(encoding="utf-8"))["regions"]
    for child in region.get("children", [])
    if child["code"]
}
IDS = [f["key"] for f in FIGURES]


def test_keys_are_unique_and_every_source_has_figures() -> None:
    assert len(IDS) == len(set(IDS))
    assert {f["source_document"] for f in FIGURES} == SOURCES
    assert set(DATA["sources"]) == SOURCES


@pytest.mark.parametrize("figure", FIGURES, ids=IDS)
def test_quote_is_verbatim_and_contains_the_value(figure: dict[str, Any]) -> None:
    assert figure["quote"] in TEXTS[figure["source_document"]]
    value = Decimal(str(figure["value"]))
    written = figure.get("written") or f"{value.normalize():f}"
    assert written in figure["quote"]
    if figure.get("written"):
        assert written_value(written) == value
    assert figure["year"] in YEAR_RANGE
    assert (figure.get("qualifier") or "") in Qualifier.values
    # A qualifier is the source's own word next to the number.
    if figure.get("qualifier") in {"近", "超", "约"}:
        assert figure["qualifier"] + written in figure["quote"]
    elif figure.get("qualifier") == "余":
        plain = figure["quote"].replace("**", "")
        assert f"{written}余" in plain or f"{written}{figure['unit'][:1]}余" in plain
    elif figure.get("qualifier") == "以上":
        assert "以上" in figure["quote"].split(written, 1)[1]


@pytest.mark.parametrize("figure", FIGURES, ids=IDS)
def test_region_only_for_leshan_and_province_matches(figure: dict[str, Any]) -> None:
    if figure["subject"] in {"乐山市", "市中区"}:
        assert figure["region"] in LESHAN_CODES
    else:
        assert not figure["region"]
    assert figure["province"] == ("江西省" if figure["subject"] == "九江市" else "四川省")


def test_title_is_in_its_source() -> None:
    for name, title in DATA["sources"].items():
        assert title.replace("“", "").replace("”", "") in TEXTS[name].replace("“", "").replace("”", "")


@pytest.mark.django_db
def test_loaded_rows_match_the_file_and_links_resolve() -> None:
    assert PublishedFigure.objects.count() == len(FIGURES)
    for figure in FIGURES:
        row = PublishedFigure.objects.get(key=figure["key"])
        assert row.value == Decimal(str(figure["value"]))
        if figure["region"]:
            assert row.region == Region.objects.get(code=figure["region"])
        if figure["indicator"]:
            link = figure["indicator"]
            assert row.indicator == Indicator.objects.get(plan__code=link["plan"], number=link["number"])
        else:
            assert row.indicator is None


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["学前教育毛入园率", "公办幼儿园在园幼儿比率", "普惠性幼儿园在园幼儿比率"])
def test_preschool_indicators_have_peer_figures(name: str) -> None:
    indicator = Indicator.objects.get(plan__code="leshan-edu-14fyp", name=name)
    peers = indicator.published_figures.exclude(subject="乐山市")
    assert peers.exists()


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    before = {f.key: (f.pk, f.value, f.quote, f.indicator_id) for f in PublishedFigure.objects.all()}
    report = load_published_figures(FILE)
    counts = report.counts["公开数据"]
    assert counts["unchanged"] == len(FIGURES)
    assert counts["created"] == counts["updated"] == counts["deleted"] == 0
    assert report.written == 0
    after = {f.key: (f.pk, f.value, f.quote, f.indicator_id) for f in PublishedFigure.objects.all()}
    assert after == before


@pytest.mark.django_db
def test_edit_updates_and_removed_key_is_deleted(tmp_path: Path) -> None:
    data = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    removed = data["figures"].pop()
    data["figures"][0]["period"] = "改过的时间"
    path = tmp_path / "published_figures.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    counts = load_published_figures(path).counts["公开数据"]
    assert (counts["updated"], counts["deleted"], counts["created"]) == (1, 1, 0)
    assert not PublishedFigure.objects.filter(key=removed["key"]).exists()
    assert PublishedFigure.objects.get(key=data["figures"][0]["key"]).period == "改过的时间"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"region": "999999"}, "区域代码"),
        ({"indicator": {"plan": "leshan-edu-14fyp", "number": 99}}, "第 99 项指标"),
        ({"year": 2030}, "年份"),
        ({"value": "123456789"}, "原文摘录中没有数字"),
        ({"qualifier": "多"}, "限定语"),
        ({"written": "4.6万", "value": "4.6"}, "不符"),
    ],
)
def test_a_bad_entry_rejects_the_whole_file(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    data = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    data["figures"][0]["period"] = "不应写入"
    data["figures"][2].update(change)
    path = tmp_path / "published_figures.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FixtureError, match=message) as excinfo:
        load_published_figures(path, report=LoadReport())
    assert data["figures"][2]["key"] in str(excinfo.value)
    assert PublishedFigure.objects.get(key=data["figures"][0]["key"]).period != "不应写入"
