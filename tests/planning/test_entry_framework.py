"""The reviewed-entry framework: both kinds through the same services, pages' buttons from the workflow's table,
and evidence added and removed through the API for both kinds (task progress had no evidence API before)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.models import IndicatorValue, IndicatorValueEvidence
from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from indicators.values import INDICATOR_VALUE
from planning import entries, workflow
from planning.models import TaskProgress, TaskProgressEvidence
from planning.progress import TASK_PROGRESS
from planning.services import TaskProgressInput, task_progress_create
from tests.api.test_api import api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def qualitative(plan):  # type: ignore[no-untyped-def]
    return next(
        t
        for t in plan.tasks.filter(responsibilities__unit__name="市教育局", responsibilities__role="lead").order_by(
            "order"
        )
        if t.progress_kind == "qualitative"
    )


def test_allowed_actions_follow_the_workflow_table(alice, carol, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.5", source="年报")
    )
    assert entries.allowed_actions(INDICATOR_VALUE, entry, alice) == {
        "edit": True,
        "submit": True,
        "withdraw": False,
        "reopen": False,
        "approve": False,
        "return": False,
        "captures": True,
    }
    entry = indicator_value_submit(value=entry, user=alice)
    mine = entries.allowed_actions(INDICATOR_VALUE, entry, alice)
    assert (mine["withdraw"], mine["edit"], mine["approve"]) == (True, False, False)
    reviewer = entries.allowed_actions(INDICATOR_VALUE, entry, carol)
    assert (reviewer["approve"], reviewer["return"], reviewer["captures"]) == (True, True, False)
    # The table is the services' too: every action a page offers is one the service accepts, and only those.
    for name, step in workflow.ACTIONS.items():
        assert (entry.status in step.from_statuses) == (name in {"withdraw", "approve", "return"}), name


def test_task_progress_evidence_over_the_api(alice, frank, qualitative) -> None:  # type: ignore[no-untyped-def]
    progress = task_progress_create(
        task=qualitative, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进", percent="30")
    )
    url = f"/api/v1/task-progress/{progress.pk}/evidence/"
    upload = api(alice).post(url, {"files": [SimpleUploadedFile("进展.pdf", PDF)]}, format="multipart")
    assert upload.status_code == 200, upload.content
    assert [e["name"] for e in upload.json()["evidence"]] == ["进展.pdf"]
    evidence = TaskProgressEvidence.objects.get(progress=progress)
    # Someone who only co-operates on the task may not touch its evidence, and an empty upload says what is missing.
    assert api(frank).post(url, {"files": [SimpleUploadedFile("x.pdf", PDF)]}, format="multipart").status_code in (
        403,
        404,
    )
    empty = api(alice).post(url, {}, format="multipart")
    assert empty.status_code == 400 and "佐证材料" in str(empty.json())
    removed = api(alice).delete(f"{url}{evidence.pk}/")
    assert removed.status_code == 200, removed.content
    assert removed.json()["evidence"] == []
    reasons = list(TaskProgressEvidence.history.filter(id=evidence.pk).values_list("history_change_reason", flat=True))
    assert sorted(reasons) == ["接口：上传佐证材料", "接口：删除佐证材料"]


def test_evidence_of_a_submitted_entry_cannot_be_removed(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate,
        region=city,
        year=2024,
        user=alice,
        data=IndicatorValueInput(value="95.5", source="年报"),
        files=[SimpleUploadedFile("年报.pdf", PDF)],
    )
    evidence = IndicatorValueEvidence.objects.get(entry=entry)
    indicator_value_submit(value=entry, user=alice)
    response = api(alice).delete(f"/api/v1/indicator-values/{entry.pk}/evidence/{evidence.pk}/")
    assert response.status_code == 409
    assert IndicatorValueEvidence.objects.filter(pk=evidence.pk).exists()
    # Another entry's evidence id is not found through this entry.
    other = indicator_value_create(
        indicator=rate, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.2", source="年报")
    )
    assert api(alice).delete(f"/api/v1/indicator-values/{other.pk}/evidence/{evidence.pk}/").status_code == 404


def test_both_kinds_share_one_transition_service(alice, carol, qualitative, rate, city) -> None:  # type: ignore[no-untyped-def]
    value = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.5", source="年报")
    )
    progress = task_progress_create(
        task=qualitative, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进", percent="30")
    )
    for kind, entry in ((INDICATOR_VALUE, value), (TASK_PROGRESS, progress)):
        submitted = entries.entry_transition(kind, entry, "submit", user=alice)
        approved = entries.entry_transition(kind, submitted, "approve", user=carol, version=submitted.version)
        assert approved.status == "approved"
    assert IndicatorValue.objects.get(pk=value.pk).approved_value == value.value
    assert TaskProgress.objects.get(pk=progress.pk).approved_percent == progress.percent


def test_changing_evidence_is_an_edit_its_editor_may_not_approve(alice, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate,
        region=city,
        year=2024,
        user=alice,
        data=IndicatorValueInput(value="95.5", source="年报"),
        files=[SimpleUploadedFile("年报.pdf", PDF)],
    )
    evidence = IndicatorValueEvidence.objects.get(entry=entry)
    entries.evidence_remove(INDICATOR_VALUE, entry, evidence_id=evidence.pk, user=erin)
    entry.refresh_from_db()
    assert entry.version == 2  # a new version: others' stale saves are refused, the history names erin
    submitted = indicator_value_submit(value=entry, user=alice)
    with pytest.raises(workflow.NotAllowed):
        entries.entry_transition(INDICATOR_VALUE, submitted, "approve", user=erin)
