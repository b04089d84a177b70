# The workbench under gunicorn, static files served by whitenoise.
# Used by docker-compose.yml; see the README's "Deploying" section.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time (hashed names, compressed);
# this key exists only for this step and is never used to sign anything.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-build-step-only-not-used-at-runtime-0000000000 \
    python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 10001 --home-dir /app workbench
USER workbench

EXPOSE 8000
CMD ["sh", "/app/deploy/start.sh"]
