"""What every connector fails with, and keeping secrets out of its messages."""

from __future__ import annotations

import re

from autonomos.common.errors import AutonomosError, FailureType


class ConnectorError(AutonomosError):
    """Base of every connector error; ``failure`` says whether a retry can help
    (``configuration``: the user must fix the connection's settings)."""

    def __init__(
        self, message: str, failure: FailureType, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, failure=failure)
        self.retry_after_s = retry_after_s


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove credentials from a message: URL userinfo and any known secret value."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
