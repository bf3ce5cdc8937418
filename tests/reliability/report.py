"""`make reliability`'s last step: the figures the fault and security tests recorded, as one table.

python -m tests.reliability.report FIGURES.jsonl PYTEST_EXIT_CODE [--write docs/reliability.md]
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Plain names for the figures' keys, in the table's language.
LABELS = {
    "clients": "并发客户端",
    "first_round_won": "首轮成功",
    "first_round_conflicts": "首轮 409",
    "retries_until_all_saved": "重试次数",
    "versions_written": "写入版本",
    "updates_lost": "丢失更新",
    "stored": "已保存",
    "lost": "丢失",
    "status_rows": "判定行数",
    "rows_differing_from_clean_recompute": "与重新全量计算不同的行",
    "seconds_until_completed": "完成用时(秒)",
    "visibility_timeout_seconds": "可见性超时(秒)",
    "requests": "请求数",
    "server_errors": "5xx",
    "slowest_request_seconds": "最慢请求(秒)",
    "pending_while_down": "待重算",
    "seconds_to_catch_up_after_redis_back": "恢复后补算用时(秒)",
    "statuses_missing_after_catch_up": "补算后缺失",
    "requests_during_outage": "中断期间请求",
    "answered_503": "返回 503",
    "answered_500": "返回 500",
    "slowest_during_outage_seconds": "中断期间最慢(秒)",
    "seconds_to_recover": "恢复用时(秒)",
    "requests_after_recovery_ok": "恢复后成功请求",
    "app_restarted": "应用重启次数",
    "tables": "数据表",
    "entries": "填报",
    "history_rows": "历史记录",
    "files": "文件",
    "rows_or_files_missing": "缺失行或文件",
    "archive_bytes": "备份大小(字节)",
    "url_patterns": "URL 模式",
    "people": "人员",
    "cells": "检查格",
    "write_attempts": "写操作尝试",
    "out_of_scope_cells": "范围外检查",
    "leaks": "越权",
    "codes": "状态码",
    "doors_tried": "尝试途径",
    "approved": "被通过",
    "inputs": "输入",
    "refused_with_chinese_message": "中文提示拒绝",
    "crashes": "崩溃",
    "posts": "提交",
    "operations": "接口操作",
    "schema_violations": "违反 schema",
    "bodies_tried": "尝试请求体",
    "bodies_checked": "比较的应答",
    "urls": "地址",
    "perturbations": "范围外改动",
    "writes_compared": "核对的写入",
    "refused": "中文提示拒绝",
    "rows_silently_changed": "被悄悄改动的行",
}


NOTES = """## 各项检查做了什么、依赖哪些设置

- **并发保存**（tests/reliability/test_concurrent_saves.py）：gunicorn（2 进程 × 8 线程）上 50 个客户端同时以同一版本号
  保存同一草稿，只有一个成功，其余得到 409 和当前值；再让 50 个客户端按 409 给出的版本不断重试直到成功，历史中
  恰有 50 个新版本、每个客户端的值各一次。依赖 `select_for_update` 加版本号的乐观锁（planning/workflow.py）。
- **worker 被 SIGKILL**（test_worker_killed.py）：3 万条数值的全量重算进行中杀掉整个 worker 或其进程池子进程。任务
  `acks_late` + `task_reject_on_worker_lost`；整个 worker 死亡时消息在 `CELERY_VISIBILITY_TIMEOUT`（生产默认为硬时限
  +5 分钟，测试中 5 秒）后由其他 worker 取回，每 `CELERY_UNACKED_RESTORE_INTERVAL`（默认 60 秒）检查一次。重算是
  幂等的集合式 SQL，结果与清空后重新全量计算逐行相同。
- **Redis 宕机**（test_redis_down.py）：填报、提交、审核照常；发布任务只尝试一次（`max_retries: 0`），任务结果不存入
  Redis（`CELERY_TASK_IGNORE_RESULT`），否则每个审核请求要等约 20 秒。审核时写入的“待重新计算”行留在数据库里，
  总览和指标详情页显示“待重新计算”；Redis 恢复后 beat 每 10 分钟运行的补算任务完成重算。
- **PostgreSQL 中断**（test_postgres_outage.py）：在站点与数据库之间放一个可切断的 TCP 中继，切断所有连接并拒绝新连接
  （与数据库重启时客户端所见相同），不影响其他测试使用的 PostgreSQL。中断期间页面和接口返回 503 与中文说明
  （`config.security.server_error`），`CONN_HEALTH_CHECKS` 使恢复后的第一个请求就重新连接，无需重启应用。
- **备份与恢复**（tests/planning/test_backup.py）：`manage.py backup` 生成包含 pg_dump、上传文件和清单（每表行数、每个
  文件的 SHA-256）的归档；恢复到新建的空数据库后逐表、逐文件核对。
- **权限矩阵**（tests/security/test_authorization_matrix.py）：每个 URL 模式（新增 URL 未列入即失败）× 10 个人
  （匿名、无角色、范围内外的填报员与审核员、领导、管理员）× 每种方法，使用有效的请求内容；范围外一律 404，领导的
  写操作一律拒绝，任何不应写入的请求都不改变数据库，每次写入的历史记录都写明何人、经何途径。
- **深或超大的请求体、错误回答**（tests/api/test_api_errors.py）：按 /api/schema/ 列出的每个写操作（含无需登录的取令牌）
  发送嵌套 1,000 层（约 2 KB）的 JSON，以及超过 1 MiB 的请求体，均在解析前以 400 和中文说明拒绝
  （`API_MAX_JSON_DEPTH` 默认 32 层、`API_MAX_JSON_BYTES` 默认 1 MiB，config/api.py）；路由不认的 id、未知路径、
  CSRF 失败、415、405、406、请求过大等，/api/ 下的回答一律为 JSON 与中文说明（config/security.py）。
- **应答内容不越权**（tests/security/test_scope_in_bodies.py）：每个页面与接口 × 每个人，先取一次应答，再只改动此人
  查看范围外的数据（全市与市中区的数值、分解目标、待审核与草稿、其他单位的任务进展）后再取一次，两次应答（去掉 CSRF
  令牌后）必须逐字相同——不看状态码，看内容：范围外的数值、计数、预警与 id 都不得出现或改变答案；另查范围外的
  `?region=` 一律 404。页面与接口用同一组选择器（`planning.selectors.chosen_region/chosen_year`）。
- **输入原样保存或拒绝**（tests/api/test_nothing_silently_changed.py）：超长文字、小数 id、`95,8`、末尾带 0 的数值、
  只含版本号的 PATCH、部分修改等，每次写入后核对数据库：要么与发送的一致，要么以说明上限或写法的中文 400 拒绝；
  “被悄悄改动的行”必须为 0。上限唯一来源是模型字段（`planning.workflow.field_limit`）。
- **登录与浏览器**：同一用户名在同一地址连续失败 5 次锁定 30 分钟（django-axes）；内容安全策略 `default-src 'self'`
  （django-csp），模板中没有内联脚本或样式，管理后台与接口文档在 Chromium 中无违规；生产设置通过
  `manage.py check --deploy --fail-level WARNING`（CI 中运行）。
"""


def merge(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One line per check; the same check recorded several times (one per API operation) is summed."""
    merged: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        target = merged[row["check"]]
        for key, value in row.items():
            if key in ("check", "test"):
                continue
            if isinstance(value, dict):
                bucket = target.setdefault(key, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0) + v
            elif isinstance(value, int | float) and key in target and key not in ("visibility_timeout_seconds",):
                target[key] = round(target[key] + value, 2) if "seconds" not in key else max(target[key], value)
            else:
                target[key] = value
    return merged


def describe(figures: dict[str, Any]) -> str:
    parts = []
    for key, value in figures.items():
        if isinstance(value, dict):
            value = "、".join(f"{k}×{v}" for k, v in sorted(value.items()))
        parts.append(f"{LABELS.get(key, key)} {value}")
    return "；".join(parts)


def machine() -> str:
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    import os

    return f"{platform.system()} {platform.release()}, {os.cpu_count()} × {cpu}, Python {platform.python_version()}"


def render(rows: list[dict[str, Any]], exit_code: int) -> str:
    merged = merge(rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    lines = [
        "# 可靠性与安全测试结果（make reliability）",
        "",
        f"- 时间：{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}；提交：{commit.stdout.strip() or '—'}",
        f"- 机器：{machine()}",
        "- 环境：PostgreSQL + Redis（与 CI 相同），故障测试在 gunicorn、Celery worker、私有 Redis 与可切断的"
        " PostgreSQL 链路上进行，互不影响。",
        f"- 结果：{'全部通过' if exit_code == 0 else f'有失败（pytest 退出码 {exit_code}），见上方输出'}",
        "- 重现：`make reliability`（需要本机 PostgreSQL 与 Redis；默认使用 CI 的数据库和 Redis 第 15 号库）",
        "",
        "| 检查 | 数字 |",
        "|---|---|",
    ]
    for check, figures in merged.items():
        lines.append(f"| {check} | {describe(figures)} |")
    lost = sum(
        int(figures.get(key, 0))
        for figures in merged.values()
        for key in ("updates_lost", "lost", "rows_or_files_missing", "statuses_missing_after_catch_up")
    )
    errors = sum(int(figures.get(key, 0)) for figures in merged.values() for key in ("server_errors", "answered_500"))
    matrix = merged.get("权限矩阵")
    leaks = "未测出结果（权限矩阵未通过）" if matrix is None else f"{matrix['leaks']} 次"
    lines += ["", f"**合计：丢失的数据 {lost} 行；服务器错误（500）{errors} 次；越权 {leaks}。**", "", NOTES]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    figures_file, exit_code = Path(argv[0]), int(argv[1])
    rows = [json.loads(line) for line in figures_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    text = render(rows, exit_code)
    print(text)
    if "--write" in argv:
        target = ROOT / argv[argv.index("--write") + 1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"已写入 {target.relative_to(ROOT)}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
