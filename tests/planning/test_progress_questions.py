"""工作进展, 存在问题, 下步打算: the three questions of a Chinese progress report, through every door.

The service keeps 存在问题 and 下步打算 optional and refuses (never cuts) text over the model's limit; the form, the
API and the pages carry them; a field left out of an update keeps its stored text.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from planning.models import Task, TaskProgress
from planning.services import TaskProgressInput, task_progress_create, task_progress_update
from planning.workflow import field_limit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PROBLEMS_LIMIT = field_limit(TaskProgress, "problems")
NEXT_STEPS_LIMIT = field_limit(TaskProgress, "next_steps")


@pytest.fixture
def qualitative() -> Task:
    """专栏2-1, a qualitative task of 市教育局 (alice captures it)."""
    task = Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code="C2.1")
    assert task.progress_kind == "qualitative"
    return task


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# --- the service ----------------------------------------------------------------------------------------------


def test_the_limits_come_from_the_model() -> None:
    assert (PROBLEMS_LIMIT, NEXT_STEPS_LIMIT) == (3000, 3000)


def test_problems_and_next_steps_are_optional_and_kept_on_update(alice, qualitative) -> None:  # type: ignore[no-untyped-def]
    bare = task_progress_create(
        task=qualitative,
        year=2022,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="开展课题研究", percent="20"),
    )
    assert (bare.problems, bare.next_steps) == ("", "")

    progress = task_progress_create(
        task=qualitative,
        year=2023,
        region=None,
        user=alice,
        data=TaskProgressInput(
            narrative="形成优秀工作案例 12 篇", problems="  经费不足  ", next_steps="争取专项经费", percent="40"
        ),
    )
    assert (progress.problems, progress.next_steps) == ("经费不足", "争取专项经费")  # stripped, as narrative

    # Left out (UNSET): kept. Only 下步打算 changes: a new version, and the history names the field.
    updated = task_progress_update(
        progress=progress, version=progress.version, user=alice, data=TaskProgressInput(next_steps="下半年完成验收")
    )
    assert updated.changed
    stored = TaskProgress.objects.get(pk=progress.pk)
    assert (stored.narrative, stored.problems, stored.next_steps) == (
        "形成优秀工作案例 12 篇",
        "经费不足",
        "下半年完成验收",
    )
    latest, earlier = stored.history.all()[:2]
    assert (earlier.next_steps, latest.next_steps) == ("争取专项经费", "下半年完成验收")

    # The same text again is no change; an explicit blank clears it.
    same = task_progress_update(
        progress=stored, version=stored.version, user=alice, data=TaskProgressInput(problems="经费不足")
    )
    assert not same.changed
    cleared = task_progress_update(
        progress=stored, version=stored.version, user=alice, data=TaskProgressInput(problems="")
    )
    assert cleared.changed
    assert TaskProgress.objects.get(pk=progress.pk).problems == ""


def test_text_over_the_limit_is_refused_not_cut(alice, qualitative) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        task_progress_create(
            task=qualitative,
            year=2022,
            region=None,
            user=alice,
            data=TaskProgressInput(
                narrative="推进中",
                problems="问" * (PROBLEMS_LIMIT + 1),
                next_steps="计" * (NEXT_STEPS_LIMIT + 2),
                percent="10",
            ),
        )
    assert caught.value.message_dict == {
        "problems": [f"存在问题最多 {PROBLEMS_LIMIT} 字，现为 {PROBLEMS_LIMIT + 1} 字，请删减后再保存。"],
        "next_steps": [f"下步打算最多 {NEXT_STEPS_LIMIT} 字，现为 {NEXT_STEPS_LIMIT + 2} 字，请删减后再保存。"],
    }
    assert not TaskProgress.objects.exists()
    # Exactly at the limit is fine.
    progress = task_progress_create(
        task=qualitative,
        year=2022,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="推进中", problems="问" * PROBLEMS_LIMIT, percent="10"),
    )
    assert len(progress.problems) == PROBLEMS_LIMIT


# --- the form and the pages ---------------------------------------------------------------------------------


def test_the_form_asks_the_three_questions_and_the_detail_shows_them(alice, qualitative) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    url = reverse("planning:progress-create", args=[qualitative.pk, 2024])
    form = client.get(url).content.decode()
    for name, label in (("narrative", "本年度工作进展"), ("problems", "存在问题"), ("next_steps", "下步打算")):
        assert f'name="{name}"' in form
        assert label in form

    response = client.post(
        url,
        {
            "narrative": "完成课题立项 3 项",
            "problems": "部分学校参与度不高",
            "next_steps": "开展专题培训",
            "percent": "35",
        },
    )
    assert response.status_code == 302
    progress = TaskProgress.objects.get(task=qualitative, year=2024)
    assert (progress.problems, progress.next_steps) == ("部分学校参与度不高", "开展专题培训")
    detail = client.get(response["Location"]).content.decode()
    for text in ("工作进展", "完成课题立项 3 项", "存在问题", "部分学校参与度不高", "下步打算", "开展专题培训"):
        assert text in detail

    # The edit form is filled with what is stored.
    edit = client.get(reverse("planning:progress-edit", args=[progress.pk])).content.decode()
    assert "部分学校参与度不高</textarea>" in edit
    assert "开展专题培训</textarea>" in edit


def test_the_form_refuses_too_long_text_and_keeps_what_was_typed(alice, qualitative) -> None:  # type: ignore[no-untyped-def]
    too_long = "问" * (PROBLEMS_LIMIT + 1)
    response = client_for(alice).post(
        reverse("planning:progress-create", args=[qualitative.pk, 2024]),
        {"narrative": "完成课题立项", "problems": too_long, "next_steps": "开展专题培训", "percent": "35"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert str(PROBLEMS_LIMIT) in body  # the error names the limit
    assert "开展专题培训</textarea>" in body
    assert not TaskProgress.objects.exists()


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_api_reads_and_writes_them(alice, qualitative) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(alice)
    created = client.post(
        "/api/v1/task-progress/",
        {
            "task": qualitative.pk,
            "year": 2023,
            "narrative": "形成案例汇编",
            "problems": "案例质量参差不齐",
            "next_steps": "组织专家评审",
            "percent": "50",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["problems"], body["next_steps"]) == ("案例质量参差不齐", "组织专家评审")

    # PATCH with one of them: the other keeps its text.
    patched = client.patch(
        f"/api/v1/task-progress/{body['id']}/", {"version": body["version"], "next_steps": "年底前出版"}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["problems"], patched.json()["next_steps"]) == ("案例质量参差不齐", "年底前出版")
    assert client.get(f"/api/v1/task-progress/{body['id']}/").json()["next_steps"] == "年底前出版"

    too_long = client.patch(
        f"/api/v1/task-progress/{body['id']}/",
        {"version": patched.json()["version"], "problems": "问" * (PROBLEMS_LIMIT + 1)},
        format="json",
    )
    assert too_long.status_code == 400
    assert str(PROBLEMS_LIMIT) in too_long.json()["problems"][0]
    assert TaskProgress.objects.get(pk=body["id"]).problems == "案例质量参差不齐"


def test_the_schema_states_the_limits(leo) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(leo)
    schema = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    for name in ("TaskProgressCreateRequest", "TaskProgressUpdateRequest"):
        fields = schema[name]["properties"]
        assert fields["problems"]["maxLength"] == PROBLEMS_LIMIT, name
        assert fields["next_steps"]["maxLength"] == NEXT_STEPS_LIMIT, name
    assert {"problems", "next_steps"} <= set(schema["TaskProgress"]["properties"])
