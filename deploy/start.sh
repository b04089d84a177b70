#!/bin/sh
# Container start: migrate, create the shared cache table (API throttling),
# then run gunicorn with deploy/gunicorn.conf.py (threaded workers; workers,
# threads and timeout from GUNICORN_WORKERS, GUNICORN_THREADS,
# GUNICORN_TIMEOUT). Safe to run on every start.
set -eu
python manage.py migrate --noinput
python manage.py createcachetable
exec gunicorn --config deploy/gunicorn.conf.py workbench.wsgi:application
