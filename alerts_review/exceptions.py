"""Domain errors of the alerts review; morgue/rest.py turns them into JSON."""

from morgue.exceptions import MorgueError, NotAllowed


class SourceTokenInvalid(MorgueError):
    """A receiver called without a valid, unrevoked source token."""

    status_code = 401


class WrongReceiver(NotAllowed):
    """A source token sent to a receiver for another kind of source."""


class UnknownCategory(MorgueError):
    pass


class BadMonth(MorgueError):
    pass
