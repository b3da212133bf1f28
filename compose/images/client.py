"""A small OCI distribution API client on httpx (imported only on the pull/push path).

Handles the ``/v2/`` auth dance (anonymous or credentialed bearer tokens from the
``WWW-Authenticate`` realm, or HTTP basic), mirrors (tried in order, falling back), retries with
resumable blob downloads (``Range``), and digest verification of everything it fetches.
Registry answers become one-line ``ImageError`` messages: ``<ref>: <status> <CODE>: <message>``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from compose.errors import ImageError
from compose.images import auth
from compose.images.model import ACCEPT
from compose.images.settings import RegistrySettings

log = logging.getLogger(__name__)
RETRIES = 3
BACKOFF = (0.2, 0.6, 1.5)
CHUNK = 1 << 20
Progress = Callable[[int], None]


class RegistryClient:
    def __init__(
        self,
        domain: str,
        *,
        settings: RegistrySettings | None = None,
        creds: tuple[str, str] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.domain = domain
        self.settings = settings or RegistrySettings.load()
        self.endpoints = self.settings.endpoints(domain)
        self.base = self.endpoints[-1]
        self.creds = creds if creds is not None else auth.credentials(domain)
        self.http = httpx.Client(
            timeout=timeout, headers={"User-Agent": "pycompose"}, transport=transport
        )
        self._auth: dict[str, str] = {}  # scope -> Authorization header value

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests with auth ----------------------------------------------------------
    def send(
        self,
        method: str,
        url: str,
        repo: str,
        *,
        push: bool = False,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        **kwargs: object,
    ) -> httpx.Response:
        scope = f"repository:{repo}:{'pull,push' if push else 'pull'}"
        resp = self._send_once(method, url, scope, headers, stream, kwargs)
        if resp.status_code == 401 and "www-authenticate" in resp.headers:
            resp.close()
            scheme = self._authenticate(resp.headers["www-authenticate"], scope, repo)
            resp = self._send_once(method, url, scope, headers, stream, kwargs)
            if resp.status_code == 401:
                resp.read()
                raise self._denied(repo, scheme, resp)
        return resp

    def _denied(self, repo: str, scheme: str, resp: httpx.Response) -> ImageError:
        if scheme == "basic":
            return self._unauthorized(repo, "incorrect username or password")
        return self._unauthorized(
            repo,
            f"pull access denied, repository does not exist or may require "
            f"authentication: {registry_answer(resp)}",
        )

    def _send_once(
        self,
        method: str,
        url: str,
        scope: str,
        headers: dict[str, str] | None,
        stream: bool,
        kwargs: dict[str, object],
    ) -> httpx.Response:
        hdrs = dict(headers or {})
        if scope in self._auth:
            hdrs["Authorization"] = self._auth[scope]
        request = self.http.build_request(method, url, headers=hdrs, **kwargs)  # type: ignore[arg-type]
        return self.http.send(request, stream=stream, follow_redirects=True)

    def _authenticate(self, header: str, scope: str, repo: str) -> str:
        """Get credentials for ``scope`` answering the challenge; returns its scheme."""
        scheme, params = auth.parse_challenge(header)
        if scheme == "basic":
            if not self.creds:
                raise self._unauthorized(repo, "authentication required")
            token = base64.b64encode(":".join(self.creds).encode()).decode()
            self._auth[scope] = f"Basic {token}"
        elif scheme == "bearer":
            self._auth[scope] = f"Bearer {self._token(params, scope, repo)}"
        else:
            raise ImageError(f"{self.domain}/{repo}: unsupported auth scheme {scheme!r}")
        return scheme

    def _token(self, params: dict[str, str], scope: str, repo: str) -> str:
        if "realm" not in params:
            raise ImageError(f"{self.domain}/{repo}: bearer challenge without realm")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        creds = self.creds if self._may_send_creds(params["realm"], repo) else None
        basic = httpx.BasicAuth(*creds) if creds else None
        try:
            resp = self.http.get(params["realm"], params=query, auth=basic)
        except httpx.HTTPError as exc:
            raise ImageError(
                f"{self.domain}/{repo}: token server {params['realm']}: {exc}"
            ) from exc
        if resp.status_code in (401, 403):
            why = "incorrect username or password" if self.creds else "authentication required"
            raise self._unauthorized(repo, why)
        if resp.status_code != 200:
            raise ImageError(f"{self.domain}/{repo}: token server answered {resp.status_code}")
        doc = resp.json()
        return doc.get("token") or doc.get("access_token") or ""

    def _may_send_creds(self, realm: str, repo: str) -> bool:
        """Credentials go to an https token server only, unless the registry itself is
        configured insecure (loopback, ``insecure-registries``): whoever writes the 401's
        ``realm`` must not get the password in clear text."""
        if not self.creds:
            return False
        if httpx.URL(realm).scheme == "https" or self.settings.is_insecure(self.domain):
            return True
        raise ImageError(
            f"{self.domain}/{repo}: the registry sends the credentials to {realm}, "
            "which is not https: refused",
            hint=f"list {self.domain} in insecure-registries (daemon.json) if that is meant",
        )

    def _unauthorized(self, repo: str, why: str) -> ImageError:
        hint = (
            f"log in: put credentials for {self.domain} into {auth.docker_config_path()}"
            if not self.creds
            else f"check the credentials for {self.domain}"
        )
        return ImageError(f"{self.domain}/{repo}: unauthorized: {why}", hint=hint)

    # -- manifests ---------------------------------------------------------------------
    def get_manifest(self, repo: str, ref: str, shown: str) -> tuple[bytes, str, str]:
        """(body, media type, digest) of a manifest, trying mirrors first."""
        last: ImageError | None = None
        for base in self.endpoints:
            try:
                return self._get_manifest_at(base, repo, ref, shown)
            except ImageError as exc:
                last = exc
                log.debug("endpoint %s failed: %s", base, exc)
        assert last is not None
        raise last

    def _get_manifest_at(
        self, base: str, repo: str, ref: str, shown: str
    ) -> tuple[bytes, str, str]:
        url = f"{base}/v2/{repo}/manifests/{ref}"
        resp = self._with_retries(
            lambda: self.send("GET", url, repo, headers={"Accept": ACCEPT}), shown, base
        )
        if resp.status_code != 200:
            raise ImageError(f"{shown}: {registry_answer(resp)}")
        body = resp.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        expected = ref if ref.startswith("sha256:") else resp.headers.get("docker-content-digest")
        if expected and expected != digest:
            raise ImageError(
                f"{shown}: manifest digest mismatch: expected {expected}, got {digest}"
            )
        self.base = base
        media = resp.headers.get("content-type", "").split(";")[0].strip()
        return body, media, digest

    def _with_retries(
        self, call: Callable[[], httpx.Response], shown: str, base: str
    ) -> httpx.Response:
        for attempt in range(RETRIES):
            try:
                resp = call()
            except httpx.HTTPError as exc:
                if attempt == RETRIES - 1:
                    raise ImageError(f"{shown}: cannot reach registry {base}: {exc}") from exc
            else:
                if resp.status_code < 500 or attempt == RETRIES - 1:
                    return resp
            time.sleep(BACKOFF[attempt])
        raise AssertionError("unreachable")

    # -- blobs -------------------------------------------------------------------------
    def get_blob_bytes(self, repo: str, digest: str, shown: str) -> bytes:
        url = f"{self.base}/v2/{repo}/blobs/{digest}"
        resp = self._with_retries(lambda: self.send("GET", url, repo), shown, self.base)
        if resp.status_code != 200:
            raise ImageError(f"{shown}: blob {digest[:19]}: {registry_answer(resp)}")
        actual = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        if actual != digest:
            raise ImageError(f"{shown}: blob digest mismatch: expected {digest}, got {actual}")
        return resp.content

    def download_blob(
        self, repo: str, digest: str, fh: BinaryIO, shown: str, progress: Progress | None = None
    ) -> None:
        """Append the blob to ``fh`` (resuming after what it holds) with retries."""
        for attempt in range(RETRIES):
            try:
                self._download_into(fh, repo, digest, shown, progress)
                return
            except (httpx.HTTPError, _Retry) as exc:
                if attempt == RETRIES - 1:
                    why = f"{shown}: blob {digest[:19]}: download failed: {exc}"
                    raise ImageError(why) from exc
                time.sleep(BACKOFF[attempt])

    def _download_into(
        self, fh: BinaryIO, repo: str, digest: str, shown: str, progress: Progress | None
    ) -> None:
        offset = fh.seek(0, os.SEEK_END)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        url = f"{self.base}/v2/{repo}/blobs/{digest}"
        resp = self.send("GET", url, repo, headers=headers, stream=True)
        try:
            if resp.status_code == 416:  # already complete
                return
            if resp.status_code >= 500:
                raise _Retry(f"{resp.status_code}")
            if resp.status_code not in (200, 206):
                resp.read()
                raise ImageError(f"{shown}: blob {digest[:19]}: {registry_answer(resp)}")
            if resp.status_code == 200 and offset:
                fh.truncate(0)
                fh.seek(0)
            elif progress and offset:
                progress(offset)
            for chunk in resp.iter_bytes(CHUNK):
                fh.write(chunk)
                if progress:
                    progress(len(chunk))
            fh.flush()
        finally:
            resp.close()

    # -- push --------------------------------------------------------------------------
    def blob_exists(self, repo: str, digest: str) -> bool:
        resp = self.send("HEAD", f"{self.base}/v2/{repo}/blobs/{digest}", repo, push=True)
        return resp.status_code == 200

    def upload_blob(self, repo: str, digest: str, path: Path) -> None:
        start = self.send("POST", f"{self.base}/v2/{repo}/blobs/uploads/", repo, push=True)
        if start.status_code != 202:
            raise ImageError(f"{self.domain}/{repo}: upload: {registry_answer(start)}")
        location = httpx.URL(self.base).join(start.headers["location"])
        url = location.copy_merge_params({"digest": digest})
        with open(path, "rb") as fh:
            resp = self.send(
                "PUT",
                str(url),
                repo,
                push=True,
                content=fh.read(),
                headers={"Content-Type": "application/octet-stream"},
            )
        if resp.status_code != 201:
            raise ImageError(f"{self.domain}/{repo}: upload {digest[:19]}: {registry_answer(resp)}")

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> None:
        url = f"{self.base}/v2/{repo}/manifests/{ref}"
        resp = self.send(
            "PUT", url, repo, push=True, content=body, headers={"Content-Type": media_type}
        )
        if resp.status_code != 201:
            raise ImageError(f"{self.domain}/{repo}:{ref}: push manifest: {registry_answer(resp)}")


class _Retry(Exception):
    pass


def verify_file(path: Path, digest: str, shown: str) -> None:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
    actual = "sha256:" + sha.hexdigest()
    if actual != digest:
        path.unlink(missing_ok=True)
        raise ImageError(f"{shown}: blob digest mismatch: expected {digest}, got {actual}")


def registry_answer(resp: httpx.Response) -> str:
    """``404 MANIFEST_UNKNOWN: manifest unknown`` from a registry error response."""
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors:
        first = errors[0]
        return f"{resp.status_code} {first.get('code', '')}: {first.get('message', '')}".strip()
    text = resp.text.strip().splitlines()[0] if resp.text.strip() else resp.reason_phrase
    return f"{resp.status_code} {text}"
