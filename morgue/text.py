"""Text Morgue cannot store: the one rule for addresses, query parameters and API bodies."""


def unreadable_text(value: str) -> str | None:
    """Why a piece of text cannot be stored (a NUL or a lone surrogate), or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (%00), which Morgue cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    return None


def unreadable_anywhere(value: object) -> str | None:
    """The first reason any text in a JSON value (keys too, at any depth) cannot be stored."""
    if isinstance(value, str):
        return unreadable_text(value)
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        reason = unreadable_anywhere(item)
        if reason:
            return reason
    return None
