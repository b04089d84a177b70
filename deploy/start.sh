#!/bin/sh
# Container start: migrate, create the shared cache table (API throttling),
# then run gunicorn. Safe to run on every start.
set -eu
python manage.py migrate --noinput
python manage.py createcachetable
exec gunicorn workbench.wsgi:application \
  --bind 0.0.0.0:8000 \
  --workers "${GUNICORN_WORKERS:-3}" \
  --timeout "${GUNICORN_TIMEOUT:-120}" \
  --graceful-timeout 30 \
  --forwarded-allow-ips "*" \
  --access-logfile - \
  --error-logfile -
