"""Database URIs as a parameters file writes them: ${VAR} references expanded from the environment,
passwords masked in every message and manifest, never written out in the file itself.

A shared leaf: the parameters validate a URI with it (no literal password), and the readers of
kit.io expand and mask URIs with it.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, urlsplit

from kit.errors import SourceError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<at>@)")


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ***, for messages and manifests."""
    return _PASSWORD.sub(lambda m: f"{m.group('head')}***{m.group('at')}", uri)


def missing_vars(text: str) -> list[str]:
    return [name for name in _VAR.findall(text) if name not in os.environ]


def expand_env(text: str, where: str, *, shown: str | None = None) -> str:
    """Replace ${VAR} with the environment's value; a missing variable is an error naming it.

    In the user-info part of a URI (user:password@) values are percent-encoded, so a password
    containing @, : or / still gives a valid URI: put the raw password in the variable.
    """
    missing = missing_vars(text)
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        on = f" (connecting to {shown})" if shown else ""
        raise SourceError(
            f"environment variable{'s' if len(set(missing)) > 1 else ''} {names} not set{on}", where=where,
            code="missing_env",
            fix=f"export {missing[0]}=... in the shell that runs the batch (credentials never go in the parameters file)",
        )
    return _substitute(text)


def _substitute(text: str) -> str:
    """${VAR} -> value (percent-encoded inside user:password@); unset variables stay as they are."""
    userinfo_end = _userinfo_end(text)

    def sub(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            return m.group(0)
        return quote(value, safe="") if m.start() < userinfo_end else value

    return _VAR.sub(sub, text)


def _userinfo_end(uri: str) -> int:
    """Index of the '@' ending user:password in a URI (0 when there is none)."""
    m = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", uri)
    if not m:
        return 0
    rest = uri[m.end():]
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    at = authority.rfind("@")
    return m.end() + at if at >= 0 else 0


def literal_password(template: str) -> bool:
    """True when a URI template writes a password out instead of referencing ${VAR}s only."""
    m = _PASSWORD.search(template)
    return bool(m and m.group("pw") and _VAR.sub("", m.group("pw")) != "")


def shown_uri(template: str) -> str:
    """The URI as messages show it: variables that are set are expanded, the password masked."""
    return mask_uri(_substitute(template))


def _secrets(uri: str) -> list[str]:
    m = _PASSWORD.search(uri)
    if not m or not m.group("pw"):
        return []
    from urllib.parse import unquote

    pw = m.group("pw")
    return sorted({pw, unquote(pw)}, key=len, reverse=True)


def scrub(text: str, uri: str) -> str:
    """`text` with the URI's password removed wherever it appears (driver messages may echo it)."""
    text = mask_uri(text)
    for secret in _secrets(uri):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def host_of(uri: str) -> str:
    try:
        parts = urlsplit(uri)
        return f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}"
    except ValueError:
        return "the database host"


def scheme_of(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""
