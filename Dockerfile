# One image for web (gunicorn), the Celery worker and Celery beat; see docker-compose.yml and README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=jointops.settings \
    JOINTOPS_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    STATICFILES_STORAGE=whitenoise.storage.CompressedManifestStaticFilesStorage

WORKDIR /app

RUN groupadd --system --gid 10001 jointops \
    && useradd --system --uid 10001 --gid jointops --home-dir /app --shell /usr/sbin/nologin jointops

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Build-time only: a throw-away key and var dir, so no secret and no database end up in the image.
RUN DJANGO_SECRET_KEY=build-only-not-secret JOINTOPS_VAR_DIR=/tmp/build-var python manage.py compile_translations \
    && DJANGO_SECRET_KEY=build-only-not-secret JOINTOPS_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/media \
    && chown -R jointops:jointops /app/var

USER jointops
EXPOSE 8000

CMD ["gunicorn", "jointops.wsgi", "-w", "2", "-b", "0.0.0.0:8000", "--access-logfile", "-"]
