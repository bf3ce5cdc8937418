"""规划管理: administrators only; upload → preview (nothing written) → confirm, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from exchange.plan_workbook import build_plan_workbook
from planning.models import Plan, PlanState, Task

from .plan_examples import EXAMPLE_CODE, edited, example_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, data: bytes, **extra: str) -> Any:
    return client.post(
        "/plans/manage/upload/", {"file": SimpleUploadedFile("示例规划.xlsx", data, content_type=XLSX), **extra}
    )


@pytest.mark.django_db
def test_only_administrators_manage_plans(alice: Any, leo: Any, carol: Any, plan: Plan) -> None:
    for user in (alice, leo, carol):
        client = client_for(user)
        assert client.get("/plans/manage/").status_code == 403
        assert client.get(f"/plans/manage/{plan.pk}/export.xlsx").status_code == 403
        assert upload(client, example_workbook()).status_code == 403
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()
    assert Client().get("/plans/manage/").status_code == 302
    assert "规划管理" not in client_for(alice).get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_the_page_lists_plans_with_their_state(ada: Any, django_assert_max_num_queries: Any) -> None:
    client = client_for(ada)
    with django_assert_max_num_queries(12):
        body = client.get("/plans/manage/").content.decode()
    for p in Plan.objects.all():
        assert p.title in body and f"/plans/manage/{p.pk}/export.xlsx" in body
    assert "实施中" in body or "已结束" in body
    assert 'href="/plans/manage/"' in body  # the nav link for administrators


@pytest.mark.django_db
def test_export_downloads_the_workbook(ada: Any, plan: Plan) -> None:
    response = client_for(ada).get(f"/plans/manage/{plan.pk}/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response.content[:2] == b"PK"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.django_db
def test_upload_preview_confirm(ada: Any, plan: Plan) -> None:
    client = client_for(ada)
    response = upload(client, example_workbook())
    assert response.status_code == 302
    preview_url = response["Location"]
    body = client.get(preview_url).content.decode()
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()  # a preview writes nothing
    assert "将新建规划（草稿状态）" in body and "确认导入" in body
    assert "九年义务教育巩固率" in body and "基期值来源" in body
    response = client.post(preview_url + "confirm/")
    assert response.status_code == 302
    new = Plan.objects.get(code=EXAMPLE_CODE)
    assert new.state == PlanState.DRAFT and new.title.startswith("示例")
    latest = new.history.latest()
    assert latest.history_user == ada and latest.history_change_reason == "后台：规划管理导入 示例规划.xlsx"
    body = client.get(preview_url).content.decode()
    assert "已导入" in body and f"/dashboard/?plan={new.pk}" in body
    # Confirming again writes nothing more; uploading the same workbook again has nothing to import.
    tasks = Task.objects.count()
    client.post(preview_url + "confirm/")
    assert Task.objects.count() == tasks
    body = client.get(upload(client, example_workbook())["Location"]).content.decode()
    assert "无变化" in body and "确认导入" not in body


@pytest.mark.django_db
def test_a_bad_workbook_lists_every_problem_and_cannot_be_confirmed(ada: Any) -> None:
    client = client_for(ada)
    bad = edited(edited(example_workbook(), "任务", "G2", 99), "任务分工", "B3", "市未知局")
    preview_url = upload(client, bad)["Location"]
    body = client.get(preview_url).content.decode()
    assert "发现 2 处问题" in body
    assert "专栏99在“专栏”表中不存在。" in body and "责任单位“市未知局”尚未登记" in body
    assert "<td>任务</td><td>2</td><td>专栏号</td>" in body
    assert "确认导入" not in body
    client.post(preview_url + "confirm/")
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()


@pytest.mark.django_db
def test_new_units_are_added_only_when_asked(ada: Any) -> None:
    client = client_for(ada)
    bad = edited(example_workbook(), "任务分工", "B3", "示例新局")
    assert "尚未登记" in client.get(upload(client, bad)["Location"]).content.decode()
    preview_url = upload(client, bad, create_units="1")["Location"]
    assert "将新增的责任单位：示例新局" in client.get(preview_url).content.decode()
    client.post(preview_url + "confirm/")
    assert Plan.objects.get(code=EXAMPLE_CODE).tasks.get().units.filter(name="示例新局").exists()


@pytest.mark.django_db
def test_a_preview_belongs_to_the_session_that_made_it(ada: Any) -> None:
    from tests.conftest import make_user

    other = make_user("ada2", "管理员")
    preview_url = upload(client_for(ada), example_workbook())["Location"]
    stranger = client_for(other)
    assert stranger.get(preview_url).status_code == 404
    assert stranger.post(preview_url + "confirm/").status_code == 404
    assert client_for(other).get("/plans/manage/uploads/not-a-token/").status_code == 404
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()


@pytest.mark.django_db
def test_a_new_code_imports_a_copy(ada: Any, plan: Plan) -> None:
    client = client_for(ada)
    preview_url = upload(client, build_plan_workbook(plan), code="copy-by-page")["Location"]
    client.post(preview_url + "confirm/")
    assert Plan.objects.get(code="copy-by-page").tasks.count() == plan.tasks.count()


@pytest.mark.django_db
def test_a_file_that_is_not_a_workbook_is_refused(ada: Any) -> None:
    client = client_for(ada)
    body = client.get(upload(client, b"not a workbook")["Location"]).content.decode()
    assert "这不是 Excel（.xlsx）文件" in body
