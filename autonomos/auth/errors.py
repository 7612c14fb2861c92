"""The auth package's errors. Messages are safe to show to the client."""

from __future__ import annotations

from autonomos.common.errors import AutonomosError


class AuthError(AutonomosError):
    """Credentials, a token or a session refused (401)."""


class LoginThrottled(AuthError):
    """Too many failed logins for this e-mail from this address: wait ``retry_after_s``.

    Raised for known and unknown e-mails alike, before any account is looked up.
    """

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after_s = retry_after_s


class RegistrationClosed(AuthError):
    """Self-registration is turned off (``AUTONOMOS_ALLOW_REGISTRATION=false``)."""

    def __init__(self) -> None:
        super().__init__("registration is closed; ask an administrator for an account")
