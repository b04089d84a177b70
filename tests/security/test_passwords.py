"""Django's password validators are on, wherever a password is chosen."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import PASSWORD, UserFactory


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("84736251908", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(db, password, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_password(password)


def test_a_password_like_the_username_is_refused(db):
    user = UserFactory(username="janedoe-coder")
    with pytest.raises(ValidationError, match="too similar"):
        validate_password("janedoe-coder", user)


def test_the_password_change_page_applies_them(client, db):
    user = UserFactory(username="coder1")
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "password",
            "new_password2": "password",
        },
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
