"""Who may sign in to the web app: a JSON file of user names and argon2 password hashes.

The file (named by ``C2C_USERS_FILE``, managed with ``c2c users``) never holds a password::

    {"version": 1, "users": {"ana": "$argon2id$v=19$m=65536,t=3,p=4$..."}}

It is replaced atomically and created with mode 0600. User names are case-insensitive (kept in
lower case) and safe as folder names, since private workspaces are keyed on them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import C2CError

FILE_VERSION = 1
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # longer input is refused before hashing: argon2 work grows with length
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)


class UserFileError(C2CError, ValueError):
    """The users file is missing or malformed, or a user name or password is not acceptable."""


def user_name(text: str) -> str:
    """The canonical (lower-case) form of a user name.

    Raises
    ------
    UserFileError
        If ``text`` is not 1-64 letters, digits, ``.``, ``_``, ``-`` or ``@`` starting with a
        letter or digit.
    """
    name = text.strip().lower()
    if not NAME_PATTERN.fullmatch(name):
        raise UserFileError(f"a user name is 1-64 letters, digits, '.', '_', '-' or '@', "
                            f"starting with a letter or digit; got {text!r}")
    return name


def check_password(password: str) -> None:
    """Raise :class:`UserFileError` unless the password has 8 to 1,024 characters."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise UserFileError(f"a password needs {PASSWORD_MIN} to {PASSWORD_MAX:,} characters; "
                            f"got {len(password)}")


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so failures take equally long."""
    return _HASHER.hash("no such user: the failure path costs the same")


@dataclass(frozen=True)
class Users:
    """User names and their argon2 hashes, as read from or written to a users file."""

    hashes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Users:
        """Read and validate a users file.

        Raises
        ------
        UserFileError
            If the file is missing, unreadable, not JSON of the expected shape, or holds a bad
            name or something that is not an argon2 hash.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserFileError(f"{path}: no such users file; create it with "
                                f"`c2c users add NAME`") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserFileError(f"{path}: cannot read the users file: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserFileError(f"{path}: not a users file (invalid JSON at line {exc.lineno}: "
                                f"{exc.msg})") from None
        users = content.get("users") if isinstance(content, dict) else None
        if not isinstance(users, dict) or content.get("version") != FILE_VERSION:
            raise UserFileError(f'{path}: not a users file: expected {{"version": '
                                f'{FILE_VERSION}, "users": {{NAME: HASH, ...}}}}')
        for name, hashed in users.items():
            if not NAME_PATTERN.fullmatch(name):
                raise UserFileError(f"{path}: {name!r} is not a user name (lower-case letters, "
                                    f"digits, '.', '_', '-', '@')")
            try:
                extract_parameters(hashed if isinstance(hashed, str) else "")
            except InvalidHashError:
                raise UserFileError(f"{path}: the entry of {name!r} is not an argon2 hash") \
                    from None
        return cls(dict(users))

    def names(self) -> list[str]:
        """The user names, sorted."""
        return sorted(self.hashes)

    def verify(self, name: str, password: str) -> str | None:
        """The canonical user name if ``password`` is right, else None.

        Unknown and malformed names are checked against a dummy hash, so a failure takes as long
        whether or not the user exists.
        """
        try:
            canonical = user_name(name)
        except UserFileError:
            canonical = ""
        stored = self.hashes.get(canonical)
        if len(password) > PASSWORD_MAX:
            return None
        try:
            _HASHER.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return canonical if stored else None

    def with_password(self, name: str, password: str) -> Users:
        """A copy with ``name`` added, or with its password replaced."""
        check_password(password)
        return Users({**self.hashes, user_name(name): _HASHER.hash(password)})

    def without(self, name: str) -> Users:
        """A copy without ``name``.

        Raises
        ------
        UserFileError
            If there is no such user.
        """
        canonical = user_name(name)
        if canonical not in self.hashes:
            known = ", ".join(self.names()) or "none"
            raise UserFileError(f"there is no user {canonical!r} (users: {known})")
        return Users({n: h for n, h in self.hashes.items() if n != canonical})

    def write(self, path: Path) -> None:
        """Replace ``path`` atomically with these users (mode 0600; folders made 0700)."""
        path = Path(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = json.dumps({"version": FILE_VERSION, "users": dict(sorted(self.hashes.items()))},
                          indent=2) + "\n"
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp makes it 0600
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def add_user(path: Path, name: str, password: str) -> bool:
    """Add a user to the users file (created if missing), or change their password.

    Returns
    -------
    bool
        True if the user is new, False if an existing user's password was replaced.
    """
    users = Users.read(path) if Path(path).exists() else Users()
    users.with_password(name, password).write(path)
    return user_name(name) not in users.hashes


def remove_user(path: Path, name: str) -> None:
    """Remove a user from the users file; raise :class:`UserFileError` if there is none."""
    Users.read(path).without(name).write(path)
