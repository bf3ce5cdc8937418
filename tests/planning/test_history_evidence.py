"""An entry's history (修改历史) on its detail page includes the uploads and removals of its evidence files, in time
order with the entry's own changes, for both kinds of entry, in a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from indicators.values import INDICATOR_VALUE
from planning.entries import evidence_add, evidence_remove
from planning.models import Task
from planning.progress import TASK_PROGRESS
from planning.services import TaskProgressInput, task_progress_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def history(content: str) -> list[str]:
    """The rows of the 修改历史 table as text, newest first."""
    table = content.split("修改历史", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr>.*?</tr>", body, re.S)
    ]


def position(rows: list[str], *words: str) -> int:
    found = [i for i, row in enumerate(rows) if all(word in row for word in words)]
    assert len(found) == 1, (words, rows)
    return found[0]


def value_draft(user, indicator, region, year=2023):  # type: ignore[no-untyped-def]
    return indicator_value_create(
        indicator=indicator, region=region, year=year, user=user, data=IndicatorValueInput(value="95.4", source="年报")
    )


def test_value_history_shows_uploads_and_removals_in_time_order(alice, carol, rate, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = value_draft(alice, rate, city)
    evidence_add(INDICATOR_VALUE, entry, files=[pdf("统计表.pdf"), pdf("照片.pdf")], user=alice)
    entry.refresh_from_db()
    removed = entry.evidence.get(original_name="照片.pdf")
    evidence_remove(INDICATOR_VALUE, entry, evidence_id=removed.pk, user=alice)
    entry.refresh_from_db()
    evidence_add(INDICATOR_VALUE, entry, files=[pdf("更正说明.pdf")], user=alice)
    entry.refresh_from_db()
    indicator_value_submit(value=entry, user=alice)
    # Another entry's evidence is not this entry's history.
    evidence_add(INDICATOR_VALUE, value_draft(alice, rate, muchuan), files=[pdf("别处.pdf")], user=alice)

    for viewer in (alice, carol):
        content = client_for(viewer).get(reverse("indicators:value-detail", args=[entry.pk])).content.decode()
        rows = history(content)
        created = position(rows, "新建草稿")
        first = position(rows, "上传佐证材料", "统计表.pdf")
        photo = position(rows, "上传佐证材料", "照片.pdf")
        gone = position(rows, "删除佐证材料", "照片.pdf")
        again = position(rows, "上传佐证材料", "更正说明.pdf")
        submitted = position(rows, "提交审核")
        assert submitted < again < gone < photo < first < created  # newest first
        assert "Alice" in rows[gone] and "表单：删除佐证材料" in rows[gone]
        assert "佐证材料：— → 统计表.pdf" in rows[first]
        assert "佐证材料：照片.pdf → —" in rows[gone]
        assert "别处.pdf" not in content


def test_task_progress_history_shows_evidence_too(alice) -> None:  # type: ignore[no-untyped-def]
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C2.1")
    entry = task_progress_create(
        task=task, year=2023, region=None, user=alice, data=TaskProgressInput(narrative="案例汇编", percent="50")
    )
    evidence_add(TASK_PROGRESS, entry, files=[pdf("案例汇编.pdf")], user=alice)
    entry.refresh_from_db()
    evidence_remove(TASK_PROGRESS, entry, evidence_id=entry.evidence.get().pk, user=alice)
    rows = history(client_for(alice).get(reverse("planning:progress-detail", args=[entry.pk])).content.decode())
    assert position(rows, "删除佐证材料", "案例汇编.pdf") < position(rows, "上传佐证材料", "案例汇编.pdf")


def test_an_untagged_removal_is_still_named(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    # A file removed outside the services (say, in the admin) has no reason on its history row: named by its kind.
    entry = value_draft(alice, rate, city)
    evidence_add(INDICATOR_VALUE, entry, files=[pdf("旧表.pdf")], user=alice)
    entry.evidence.get().delete()
    rows = history(client_for(alice).get(reverse("indicators:value-detail", args=[entry.pk])).content.decode())
    assert "删除佐证材料" in rows[position(rows, "旧表.pdf →")]
    assert "系统" in rows[position(rows, "旧表.pdf →")]


def test_history_queries_do_not_grow_with_the_evidence(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = value_draft(alice, rate, city)
    client = client_for(alice)
    url = reverse("indicators:value-detail", args=[entry.pk])

    def queries() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    evidence_add(INDICATOR_VALUE, entry, files=[pdf("一.pdf")], user=alice)
    few = queries()
    for n in range(4):
        entry.refresh_from_db()
        evidence_add(INDICATOR_VALUE, entry, files=[pdf(f"第{n}份.pdf")], user=alice)
    entry.refresh_from_db()
    evidence_remove(INDICATOR_VALUE, entry, evidence_id=entry.evidence.first().pk, user=alice)
    many = queries()
    assert len(history(client.get(url).content.decode())) > 10
    assert many == few
