"""The report says what a lagging task's approved progress says: 工作进展, 存在问题, 下步打算; never a draft's words."""

from __future__ import annotations

import io

import pytest
from docx import Document

from indicators.services import status_recompute_all
from planning.models import Task
from planning.services import (
    TaskProgressInput,
    task_progress_approve,
    task_progress_create,
    task_progress_submit,
)
from reports.collect import collect
from reports.document import build_docx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def text_of(document: Document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


@pytest.fixture
def lagging_task(alice, carol, plan, django_capture_on_commit_callbacks) -> Task:  # type: ignore[no-untyped-def]
    """专栏2-1 (qualitative) 5% done by 2023, approved: far behind the 60% the time asks for. 专栏2-4 has a draft."""
    task = Task.objects.prefetch_related("targets__regions").get(plan=plan, code="C2.1")
    with django_capture_on_commit_callbacks(execute=True):
        progress = task_progress_create(
            task=task,
            year=2023,
            region=None,
            user=alice,
            data=TaskProgressInput(
                narrative="完成前期调研\n形成工作方案。",
                problems="专项经费未到位，部分学校参与不足",
                next_steps="争取专项经费；下半年完成立项",
                percent="5",
            ),
        )
        task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
        other = Task.objects.prefetch_related("targets__regions").get(plan=plan, code="C2.4")
        task_progress_create(
            task=other,
            year=2023,
            region=None,
            user=alice,
            data=TaskProgressInput(
                narrative="草稿进展", problems="草稿中的问题", next_steps="草稿中的打算", percent="1"
            ),
        )
    status_recompute_all()
    return task


@pytest.mark.parametrize("kind", ["annual", "midterm"])
def test_the_report_gives_the_three_answers_of_a_lagging_task(plan, lagging_task, kind) -> None:  # type: ignore[no-untyped-def]
    data = collect(plan, 2023, kind)
    text = text_of(Document(io.BytesIO(build_docx(data))))
    task_line = next(line for line in text.splitlines() if f"{lagging_task.label} {lagging_task.title}（" in line)
    assert task_line.endswith(
        "工作进展：完成前期调研；形成工作方案。"
        "存在问题：专项经费未到位，部分学校参与不足。"
        "下步打算：争取专项经费；下半年完成立项。"
    )
    # 需要关注的事项: the task's lag flag says why it is behind and what comes next (the narrative stays in 四).
    concern = next(
        line
        for line in text.splitlines()
        if line.split(". ", 1)[-1].startswith(f"{lagging_task.label} {lagging_task.title}：")
    )
    assert "存在问题：专项经费未到位，部分学校参与不足。下步打算：争取专项经费；下半年完成立项。" in concern
    assert "工作进展" not in concern
    # A draft is not yet the bureau's word.
    for draft in ("草稿进展", "草稿中的问题", "草稿中的打算"):
        assert draft not in text


def test_an_older_approved_year_is_named(plan, lagging_task) -> None:  # type: ignore[no-untyped-def]
    text = text_of(Document(io.BytesIO(build_docx(collect(plan, 2024, "annual")))))
    assert "2023年，工作进展：完成前期调研" in text
