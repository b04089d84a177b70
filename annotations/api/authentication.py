"""Token authentication for scripts: ``Authorization: Token <key>``, or
``Bearer <key>`` as httr2's ``req_auth_bearer_token()`` and most HTTP
clients send it."""

from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        auth = authentication.get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: send 'Authorization: Token <key>'."
            )
        try:
            key = auth[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: the key has invalid characters."
            ) from None
        return self.authenticate_credentials(key)
