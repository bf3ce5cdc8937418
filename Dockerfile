# Image for web, worker and beat (docker-compose.yml). Front-end packages come from PyPI/npm at build
# time, never from a CDN at run time, so the image works on an intranet.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk curl postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app

WORKDIR /app
# Runtime pins only: the test and lint tools (requirements-dev.lock) never enter the image.
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
COPY --from=assets /assets/node_modules/echarts/dist /app/node_modules/echarts/dist
# collectstatic needs settings that import cleanly; the real secret comes from the environment at run time.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media /app/var/backups && chown -R app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
