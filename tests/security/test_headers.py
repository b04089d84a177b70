"""Security headers on every response: a strict Content Security Policy,
nosniff, Referrer-Policy and frame denial."""

import pytest

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
}


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = [d.strip() for d in header.split(";") if d.strip()]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in directives}


def assert_secure_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, status",
    [
        ("/accounts/login/", 200),
        ("/", 302),  # anonymous: redirected to the login page
        ("/no-such-page/", 404),
        ("/admin/login/", 200),
        ("/api/", 403),
    ],
)
def test_every_response_carries_the_strict_policy(client, path, status):
    response = client.get(path)
    assert response.status_code in (status, 401)
    assert_secure_headers(response)
    assert policy(response) | STRICT == policy(response)
    assert "unsafe" not in response.headers["Content-Security-Policy"]


def test_logged_in_pages_and_htmx_fragments_carry_it_too(client, study):
    client.force_login(study.coder1)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/", headers=headers)
        assert response.status_code == 200
        assert_secure_headers(response)
        assert policy(response)["script-src"] == "'self'"


def test_static_files_are_never_sniffed(client, settings):
    # whitenoise answers before most middleware; SecurityMiddleware still runs.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/static/annotations/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_api_docs_page_gets_only_a_style_relaxation(client):
    response = client.get("/api/docs/")
    csp = policy(response)
    assert csp["style-src"] == "'self' 'unsafe-inline'"
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    # ... and only there.
    assert policy(client.get("/api/"))["style-src"] == "'self'"


def test_base_template_turns_off_htmx_inline_styles_and_eval(client, study):
    client.force_login(study.coder1)
    html = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


def test_no_template_has_inline_script_or_style():
    """The CSP would block them in the browser: catch them at the source."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "annotations" / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=", text):
            offenders.append(f"{path.name}: inline style")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path.name}: inline event handler")
    assert not offenders, offenders


@pytest.mark.django_db
def test_oversized_requests_are_refused_before_they_are_read(client, settings):
    settings.REQUEST_MAX_BYTES = 1000
    response = client.post(
        "/accounts/login/", data=b"x" * 10, content_type="text/plain",
        CONTENT_LENGTH="5000000",
    )  # fmt: skip
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    api = client.post(
        "/api/", data=b"x", content_type="application/json", CONTENT_LENGTH="5000000"
    )
    assert api.status_code == 413
    assert "limit" in api.json()["detail"]
