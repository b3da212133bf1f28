"""Image references, parsed and normalized exactly like Docker's distribution/reference.

``redis`` -> ``docker.io/library/redis:latest``; ``host:port/ns/name:tag@sha256:...`` keeps all
parts. Errors use Docker's wording ("invalid reference format ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compose.errors import UserError

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
NAME_TOTAL_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = rf"{_COMPONENT}(?:/{_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True, slots=True)
class Reference:
    domain: str  # "docker.io", "127.0.0.1:5000"
    path: str  # "library/redis"
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Fully qualified repository name, ``docker.io/library/redis``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        return self.path.removeprefix(OFFICIAL_PREFIX) if self.path.count("/") == 1 else self.path

    def __str__(self) -> str:
        return self.name + self._suffix()

    def familiar(self) -> str:
        """What Docker prints: ``redis:7``, ``127.0.0.1:5000/busybox:latest``."""
        return self.familiar_name + self._suffix()

    def _suffix(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return tag + (f"@{self.digest}" if self.digest else "")

    @property
    def reference(self) -> str:
        """What goes into the manifest URL: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, None)


def split_docker_domain(name: str) -> tuple[str, str]:
    head, sep, rest = name.partition("/")
    if not sep or (
        not any(c in head for c in ".:") and head != "localhost" and head.lower() == head
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = head, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse(text: str, *, default_tag: bool = True) -> Reference:
    """ParseNormalizedNamed + TagNameOnly (``default_tag``): ``redis`` -> ``...redis:latest``."""
    if _IDENTIFIER.match(text):
        raise UserError(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = split_docker_domain(text)
    repo_part = _repo_part(remainder)
    if repo_part.lower() != repo_part:
        raise UserError(
            f"invalid reference format: repository name ({repo_part}) must be lowercase"
        )
    match = _REFERENCE.match(f"{domain}/{remainder}")
    if not match:
        raise UserError(f"invalid reference format: {text!r}")
    if len(match["name"]) > NAME_TOTAL_MAX:
        raise UserError(
            f"invalid reference format: repository name must not be more than {NAME_TOTAL_MAX}"
            " characters"
        )
    path = match["name"][len(domain) + 1 :]
    tag = match["tag"] or (None if match["digest"] or not default_tag else "latest")
    return Reference(domain, path, tag, match["digest"])


def _repo_part(remainder: str) -> str:
    """What Docker checks for lowercase: the remainder up to its first ':'."""
    return remainder.split(":", 1)[0]
