"""A WSGI app that answers after ``SLOW_WSGI_SECONDS``: stands in for a long
export when checking how gunicorn's workers treat long requests."""

import os
import time


def application(environ, start_response):
    time.sleep(float(os.environ.get("SLOW_WSGI_SECONDS", "3")))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
