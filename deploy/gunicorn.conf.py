"""gunicorn settings for the workbench: used by deploy/start.sh (the
container) and by the benchmark's app server, so what is measured is what is
deployed. Command-line flags override these (the benchmark sets its own bind,
workers and threads).

Threaded workers (gthread): a worker's main thread keeps answering the
arbiter's heartbeat while its threads serve requests, so a long export of a
large project (a REFI-QDA file of 200,000 segments takes several seconds, of 4
million a few minutes) is not killed at ``timeout`` as a sync worker would be,
and one PI's export does not take a whole worker away from the coders.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# With gthread this bounds a worker that stops answering the arbiter (stuck
# in C code, out of memory), not the length of a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Keep-alive connections from the proxy (Caddy) are reused between requests.
keepalive = 5
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
