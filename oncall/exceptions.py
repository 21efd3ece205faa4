"""On-call domain errors; morgue/rest.py maps them to JSON sentences."""

from morgue.exceptions import Conflict, MorgueError, NotAllowed


class RotationInvalid(MorgueError):
    pass


class OverrideInvalid(MorgueError):
    pass


class OverrideConflict(Conflict):
    pass


class NotYourShift(NotAllowed):
    pass


class SwapClosed(Conflict):
    pass


class PageClosed(Conflict):
    """An acknowledgement of a page that ran out or resolved."""
