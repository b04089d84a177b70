"""Security plumbing used by settings.py: the Content Security Policy with
its one per-path relaxation, a request-size guard, the login lockout page
and the API throttles. Settings are read inside functions (tests change
them)."""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

LOCKOUT_MESSAGE = (
    "Too many failed login attempts for this username or from this address. "
    "Logging in is paused for {minutes} minutes; wait, then try again. "
    "If you forgot your password, ask your project's PI or an administrator."
)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, plus ``CSP_PATH_UPDATES``: extra sources for
    URL prefixes that cannot live with the strict policy (the Swagger UI page
    ships an inline <style> block and data: images)."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        for prefix, update in getattr(settings, "CSP_PATH_UPDATES", {}).items():
            if request.path_info.startswith(prefix):
                merged = dict(parts.update or {})
                for directive, sources in update.items():
                    merged[directive] = [*merged.get(directive, []), *sources]
                parts.update = merged
        return parts


class RequestSizeLimitMiddleware:
    """Answer 413 to a request body larger than any upload can be, before
    Django reads it (gunicorn sets no limit on body size)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = getattr(settings, "REQUEST_MAX_BYTES", None)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit and length > limit:
            message = (
                f"The request is too large ({length // 1024 // 1024} MB); "
                f"the limit is {limit // 1024 // 1024} MB."
            )
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain")
        response = self.get_response(request)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


def client_ip(request) -> str:
    """The client's address for login throttling. Behind
    ``TRUSTED_PROXY_COUNT`` proxies it is the address the outermost proxy
    appended to X-Forwarded-For (entries further left are client-supplied
    and could be forged)."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "")
    if not count:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    return hops[-count] if len(hops) >= count else remote


def lockout_minutes() -> int:
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    return int(cool_off.total_seconds() // 60) if cool_off else 15


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login attempt gets (``AXES_LOCKOUT_CALLABLE``): the
    login page with a plain message, or JSON for the API; status 429."""
    message = LOCKOUT_MESSAGE.format(minutes=lockout_minutes())
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(
        request,
        "registration/locked_out.html",
        {"message": message, "username": username},
        status=429,
    )


def _throttle_rate(scope: str) -> str | None:
    if not getattr(settings, "API_THROTTLE_ENABLED", True):
        return None
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    return rates.get(scope)


# DRF makes a throttle per request, so reading the rate in get_rate() (not at
# import, as DRF's classes do) lets settings and tests change it.
class AnonThrottle(AnonRateThrottle):
    """Anonymous API requests, per client address."""

    def get_rate(self):
        return _throttle_rate(self.scope)


class UserThrottle(UserRateThrottle):
    """Authenticated API requests (token or session), per user."""

    def get_rate(self):
        return _throttle_rate(self.scope)
