"""Errors that carry a clear message for people and for API clients (RFC 9457)."""


class PlatformError(Exception):
    """Base of errors shown to users: a short title, a detail saying what and where."""

    status = 400

    def __init__(
        self,
        title: str,
        detail: str = "",
        *,
        field: str | None = None,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title)
        self.title = title
        self.detail = detail
        self.field = field
        # Every fault when there are several (form answers, rows of a file): dicts naming
        # where (field, line, column, page...) and the message; the API returns them as is.
        self.errors = errors
        # HTTP headers the answer carries, page or API (e.g. Retry-After).
        self.headers = headers or {}


class BadRequest(PlatformError):
    status = 400


class NotFound(PlatformError):
    status = 404


class PermissionDenied(PlatformError):
    status = 403


class LoginRequired(PermissionDenied):
    """Refused to an anonymous visitor, where logging in may open the page: a page sends them to
    log in (then back), the API answers 401. Raise plain PermissionDenied where an account would
    not help (e.g. an expired link)."""

    status = 401


class Conflict(PlatformError):
    status = 409


class TooManyRequests(PlatformError):
    """Over a rate limit: the answer says when to try again (Retry-After, in seconds)."""

    status = 429

    def __init__(self, title: str, detail: str = "", *, retry_after: int, **kwargs):
        super().__init__(title, detail, headers={"Retry-After": str(max(1, retry_after))}, **kwargs)


def from_validation_error(error) -> BadRequest:
    """A Django ValidationError as a BadRequest naming the first faulty field."""
    if hasattr(error, "message_dict"):
        field, messages = next(iter(error.message_dict.items()))
        return BadRequest(
            "Invalid value", " ".join(messages), field=None if field == "__all__" else field
        )
    return BadRequest("Invalid value", " ".join(error.messages))
