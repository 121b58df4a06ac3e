"""Credentials held so that nothing prints them: a ``str`` whose ``repr`` and ``str`` redact."""

__all__ = ["Secret"]


class Secret(str):
    """An API key, a JWT or an ``Authorization`` header value. It *is* the text (httpx encodes and
    sends it unchanged), but ``repr()``, ``str()``, f-strings and ``%s`` show ``[redacted]``, so
    traceback locals (``capture_locals=True``, ``pytest --showlocals``), debuggers and log lines
    never show it. Built by the native module for every ``Authorization`` header it returns."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[redacted]'"

    def __str__(self) -> str:
        return "[redacted]"

    def __format__(self, spec: str) -> str:
        # `f"{key:>30}"` formatted the text itself (str's own __format__; helper-43).
        return format("[redacted]", spec)

    def __reduce__(self) -> str:
        raise TypeError("a usvideo Secret cannot be pickled")
