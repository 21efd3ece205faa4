"""Domain errors of incidents; morgue/rest.py maps them to HTTP."""

from morgue.exceptions import Conflict, MorgueError, NotAllowed


class StaleVersion(Conflict):
    """An edit based on an older version than the incident's current one."""

    def __init__(self, *, current_version: int):
        super().__init__(
            f"Someone else saved this incident first (it is now at version {current_version}); "
            "reload it, merge your changes and save again.",
            field="version",
        )
        self.current_version = current_version
        self.extra = {"version": current_version}


class StatusChangeRefused(MorgueError):
    pass


class ReviewNotReady(MorgueError):
    pass


__all__ = ["NotAllowed", "ReviewNotReady", "StaleVersion", "StatusChangeRefused"]
