# 乐山教育规划目标跟踪系统 — every set-up step lives here so that `make run` and `make test` work
# on a fresh machine with nothing but Python 3.11 (and, for browser tests, Debian's chromium).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: help run test fuzz lint check deploy-check backup restore reliability bench setup setup-dev db demo-users demo-users-reset demo-data system-deps lock clean worker

help:
	@echo "make run    — 安装依赖、迁移数据库、载入规划、创建演示账号，并在 http://$(HOST):$(PORT) 启动"
	@echo "make test   — 安装依赖并运行全部测试"
	@echo "make lint   — ruff 与 mypy"

# The virtualenv is rebuilt whenever the pinned dependencies change. requirements.lock holds what the app
# needs at run time (make run, the Docker image); requirements-dev.lock adds the test and lint tools
# (make test, lint, fuzz, reliability, bench) on top of it.
$(INSTALLED): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "需要 $(PYTHON)（Python 3.11）"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements.lock
	touch $(INSTALLED)

$(DEV_INSTALLED): $(INSTALLED) requirements-dev.lock
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(DEV_INSTALLED)

# Front-end packages come from the npm registry at set-up time (the pages never load a CDN).
NODE_INSTALLED := node_modules/.installed
$(NODE_INSTALLED): package.json package-lock.json
	@command -v npm >/dev/null || { echo "需要 npm（Node.js）以安装 ECharts"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_INSTALLED)

setup: $(INSTALLED) $(NODE_INSTALLED)

setup-dev: setup $(DEV_INSTALLED)

db: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_plan

demo-users: db
	$(PY) manage.py seed_demo_users

demo-users-reset: db
	$(PY) manage.py seed_demo_users --reset-passwords

# DEMO=0 make run skips the generated 演示数据.
DEMO ?= 1
demo-data: demo-users
	@if [ "$(DEMO)" = "1" ]; then $(PY) manage.py load_demo; fi

run: demo-data
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL 已设置：同时启动 Celery worker（含 beat）"; \
		$(VENV)/bin/celery -A config worker --beat --loglevel INFO --concurrency 2 & \
		worker=$$!; trap "kill $$worker 2>/dev/null" EXIT; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		echo "未设置 REDIS_URL：后台任务在进程内即时执行（CELERY_TASK_ALWAYS_EAGER）"; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

worker: setup
	$(VENV)/bin/celery -A config worker --beat --loglevel INFO

# Browser tests drive Debian's chromium; install it (and CJK fonts for screenshots) when we can.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
		|| ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "安装 chromium、fonts-noto-cjk（浏览器测试用）与 libreoffice-writer-nogui、poppler-utils（报告版面测试用）"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
				libreoffice-writer-nogui poppler-utils >/dev/null) \
				|| echo "未能安装 chromium；浏览器测试将被跳过"; \
		else \
			echo "未找到 /usr/bin/chromium 且无法安装；浏览器测试将被跳过（apt-get install chromium fonts-noto-cjk）"; \
		fi; \
	fi

test: setup-dev system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# A deeper, randomised schemathesis run over the API (CI runs a fixed, smaller set).
fuzz: setup-dev
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(PY) -m pytest tests/api/test_schemathesis.py -n auto -q

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Faults survived, load held, bad inputs tried, rows lost: run on PostgreSQL + Redis (CI's by default), printed
# as one table and written to docs/reliability.md.
RELIABILITY_TESTS := tests/reliability tests/security tests/api/test_nothing_silently_changed.py \
	tests/planning/test_backup.py tests/config/test_security.py \
	tests/api/test_schemathesis.py tests/api/test_api_errors.py tests/browser/test_strict_csp.py
reliability: setup-dev system-deps
	@export DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker_ci}" \
		REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/15}" REQUIRE_SERVICES=1 \
		RELIABILITY_FIGURES="$$(mktemp)"; \
	$(PY) -m pytest -n 2 -q $(RELIABILITY_TESTS); code=$$?; \
	$(PY) -m tests.reliability.report "$$RELIABILITY_FIGURES" $$code --write docs/reliability.md

# Scale benchmark on PostgreSQL (+ Redis for the chord, wrk for the API): one table, written to docs/benchmarks.md,
# and a chart of the recompute's seconds against size (docs/benchmarks-scaling.png, labelled with fonts-noto-cjk).
# Synthetic plans of 285 / 1,430 / 3,000 / 5,700 regions × 70 indicators × 5 years (≈ 0.1M / 0.5M / 1.05M / 2M
# values; the main size 3,000) are each generated once and reused. BENCH_ARGS="--sizes 20,40 --skip api" etc.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tracker_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ARGS ?=
bench: setup-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null); } \
		|| echo "未找到 wrk：接口压测将不运行（apt-get install wrk）"
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null); } \
		|| echo "未找到中文字体：规模图将只有数字（apt-get install fonts-noto-cjk）"
	@db="$(BENCH_DATABASE_URL)"; name="$${db##*/}"; \
	psql "$${db%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$$name'" | grep -q 1 \
		|| psql "$${db%/*}/postgres" -c "CREATE DATABASE \"$$name\"" >/dev/null
	@export DATABASE_URL="$(BENCH_DATABASE_URL)" REDIS_URL="$(BENCH_REDIS_URL)" DEBUG=0 SECURE_SSL_REDIRECT=0 \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" ALLOWED_HOSTS=127.0.0.1,localhost; \
	$(PY) manage.py migrate --noinput -v0 && $(PY) manage.py load_plan >/dev/null && \
	$(PY) manage.py collectstatic --noinput -v0 && $(PY) manage.py bench $(BENCH_ARGS)

# Backups: the database (pg_dump, or SQLite's backup API) and the uploaded files in one checked archive.
BACKUP_DIR ?= var/backups
backup: setup
	$(PY) manage.py backup --output $(BACKUP_DIR)

# make restore FILE=var/backups/tracker-backup-….tar.gz  (into an empty database; REPLACE=1 to overwrite)
restore: setup
	@test -n "$(FILE)" || { echo "用法：make restore FILE=备份文件.tar.gz [REPLACE=1]"; exit 2; }
	$(PY) manage.py restore "$(FILE)" $(if $(filter 1,$(REPLACE)),--replace,)

# Django's deployment checklist against the production settings (DEBUG off, a real secret key).
deploy-check: setup
	DEBUG=0 SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		ALLOWED_HOSTS=jiaoyu.leshan.example $(PY) manage.py check --deploy --fail-level WARNING

check: lint test

# Re-resolve the pinned versions from the ranges in pyproject.toml: everything (runtime + dev) is resolved
# together, then the runtime dependencies alone are installed constrained to those pins; their freeze is
# requirements.lock and the rest is requirements-dev.lock (which pulls in requirements.lock with -r).
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV) && mkdir -p $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)/all && $(PYTHON) -m venv $(LOCK_VENV)/runtime
	$(LOCK_VENV)/all/bin/pip install --quiet --disable-pip-version-check ".[dev]"
	$(LOCK_VENV)/all/bin/pip freeze --exclude leshan-plan-tracker > $(LOCK_VENV)/all.txt
	$(LOCK_VENV)/runtime/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
		> $(LOCK_VENV)/runtime.in
	$(LOCK_VENV)/runtime/bin/pip install --quiet --disable-pip-version-check -c $(LOCK_VENV)/all.txt -r $(LOCK_VENV)/runtime.in
	$(LOCK_VENV)/runtime/bin/pip freeze > $(LOCK_VENV)/runtime.txt
	$(LOCK_VENV)/runtime/bin/pip check
	@if grep -vxFf $(LOCK_VENV)/all.txt $(LOCK_VENV)/runtime.txt; then echo "以上运行时依赖不在完整解析结果中"; exit 1; fi
	cp $(LOCK_VENV)/runtime.txt requirements.lock
	{ echo "# Development and test tools ([project.optional-dependencies].dev) and what they need beyond the"; \
	  echo "# runtime set; generated by make lock. Installing this file installs requirements.lock too."; \
	  echo "-r requirements.lock"; \
	  grep -vxFf $(LOCK_VENV)/runtime.txt $(LOCK_VENV)/all.txt || [ $$? = 1 ]; } > requirements-dev.lock
	rm -rf $(LOCK_VENV) build *.egg-info

clean:
	rm -rf $(VENV) node_modules var db.sqlite3 db.sqlite3-* .pytest_cache .mypy_cache .ruff_cache
