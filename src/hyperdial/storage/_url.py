r"""Storage URLs in messages and logs: no part of a password, ever.

`redact_url` is the one way a storage URL reaches text a person may read (errors,
logs, reprs, the CLI). SQLAlchemy's own `render_as_string(hide_password=True)` is
not enough: it ends the password at the FIRST '@', so a raw '@' in a password
(`user:S3cr@tPw@host`) leaves `tPw` in the "host" it prints, and the database
driver then quotes that host in its error ("failed to resolve host 'tPw@host'").
Here the userinfo ends at the LAST '@' (as browsers and `urllib.parse` read it),
which errs on hiding too much: an '@' in a query string hides what precedes it.
Such a URL could never connect anyway (no host has an '@'), so `SQLStorage` rejects
it up front (`misread_host`) and asks for the '@' to be written %40.

>>> redact_url("postgresql+psycopg://user:S3cr@tPw@127.0.0.1:5432/db")
'postgresql+psycopg://user:***@127.0.0.1:5432/db'
>>> redact_url("postgresql://user:p%40ss@db.example/app?password=x&sslmode=require")
'postgresql://user:***@db.example/app?password=***&sslmode=require'
>>> redact_url("sqlite:///data/a@b.db")
'sqlite:///data/a@b.db'
>>> redact_url("not a url: user:S3cr@tPw@host")
'***@host'
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_MASK = "***"
# password=... (or pass=...) in a query string, as libpq and some drivers accept it.
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|pass|passwd|pwd)=)[^&#]*")


_HOST = re.compile(r"[A-Za-z0-9._%:\[\],-]*")  # names, IPv4/IPv6 addresses, ports, several hosts


def misread_host(host: str | None) -> bool:
    """Whether a host parsed from a URL cannot be one: a piece of a password with a raw '@' ended up in it.

    >>> misread_host("tPw@127.0.0.1"), misread_host("tPw&connect_timeout=5"), misread_host("db.example")
    (True, True, False)
    """
    return host is not None and _HOST.fullmatch(host) is None


def _split(url: str) -> tuple[str, str, str] | None:
    """(scheme://user, password, @host-and-rest), or None when the URL holds no password."""
    scheme, sep, rest = url.partition("://")
    if not sep or rest.startswith("/"):  # no authority (sqlite:///path): no password
        return None
    at = rest.rfind("@")
    if at < 0:
        return None
    user, colon, password = rest[:at].partition(":")
    if not colon:
        return None
    return f"{scheme}://{user}", password, rest[at:]


def redact_url(url: str) -> str:
    """`url` with its password (raw '@' and percent-escapes included) replaced by '***'.

    Text that does not parse as a URL keeps only what follows its last '@'.
    """
    if not isinstance(url, str):
        return _MASK
    # The query first: a raw '@' in `password=` would otherwise pass for the end of a userinfo.
    url = _QUERY_PASSWORD.sub(lambda m: m.group(1) + _MASK, url)
    parts = _split(url)
    if parts is not None:
        head, _, tail = parts
        return f"{head}:{_MASK}{tail}"
    if "://" not in url and "@" in url:
        return _MASK + url[url.rfind("@"):]
    return url


def redact_text(text: str, url: str) -> str:
    """`text` (a driver's error, say) with `url` and any piece of its password hidden.

    Pieces are the password split at its '@'s: a driver that misread the URL quotes the
    later ones as part of the host (`'tPw@127.0.0.1'`), so each is hidden with its '@'.

    >>> redact_text("failed to resolve host 'tPw@127.0.0.1'", "postgresql://u:S3cr@tPw@127.0.0.1/db")
    "failed to resolve host '***@127.0.0.1'"
    """
    if not isinstance(url, str) or not url:
        return text
    text = text.replace(url, redact_url(url))
    passwords = [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(url)]
    parts = _split(_QUERY_PASSWORD.sub(lambda m: m.group(1) + _MASK, url))
    if parts is not None:
        passwords.append(parts[1])
    secrets: set[str] = set()
    for password in passwords:
        pieces = password.split("@")
        secrets.update(p + "@" for p in pieces[1:] if p)
        # Bare strings only from 4 characters (or with an '@'): shorter ones would blank out ordinary words.
        secrets.update(s for s in (password, unquote(password), *pieces) if len(s) >= 4 or "@" in s)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, _MASK + ("@" if secret.endswith("@") else ""))
    return text
