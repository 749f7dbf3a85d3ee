"""RE2 compilation for operator-entered patterns (pure; no Django).

RE2 guarantees linear-time matching, so no pattern an operator types can hang
a worker. Patterns RE2 cannot compile (backreferences, lookaround) are refused
when the rule is saved.
"""

from __future__ import annotations

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the operator, not spammed to stderr


def regex_compile(pattern: str):
    return re2.compile(pattern, options=_OPTIONS)


def regex_compile_error(pattern: str) -> str | None:
    """None when RE2 accepts the pattern, else the reason in words."""
    try:
        regex_compile(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return str(reason)
    return None
