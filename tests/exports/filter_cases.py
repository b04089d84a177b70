"""The export filters the fast PostgreSQL paths are compared on."""

import datetime as dt

from annotations.services import exports

CASES = [
    {"coder": "coder1"},
    {"coder": "coder2", "consensus": True},
    {"consensus": True},
    {"since": "today", "until": "today"},
    {"until": "yesterday"},
    {"since": "2030-01-01"},
]


def filter_build(project, case: dict):
    """``case`` with "today" and "yesterday" read as dates."""
    today = dt.date.today()
    days = {"today": today, "yesterday": today - dt.timedelta(days=1)}
    filters = {k: days.get(v, v) for k, v in case.items()}
    return exports.export_filter_build(project=project, **filters)
