"""Domain errors shared by every app; the API maps them to HTTP in one place."""


class MorgueError(Exception):
    """A request that cannot be carried out, explained in one sentence."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(MorgueError):
    status_code = 409


class NotAllowed(MorgueError):
    status_code = 403
