"""Authentication backends."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for every login that comes with a request
    (the login form, the admin, DRF's token endpoint).

    ``authenticate()`` without a request (the test client's ``login()``, a
    shell) has no address to throttle by; axes would raise there, so this
    backend steps aside and the next backend decides as usual.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
