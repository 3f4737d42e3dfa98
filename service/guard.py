"""What a browser could make the service do for a web page it did not serve.

In front of everything (the inference fast path included):
- the Host header must name this service (`AESVC_ALLOWED_HOSTS`): a page that rebinds its
  own DNS name to 127.0.0.1 sends its own name, and is refused (400, as Django and starlette do);
- a state-changing request that a browser marks cross-site or same-site (`Sec-Fetch-Site`:
  another port on localhost is same-site), or whose `Origin` is not this service's own
  host and port, is refused (403);
- the body types a browser sends cross-site without a pre-flight (text/plain, url-encoded
  and multipart forms) are refused (415) except by the two upload routes, which take a
  multipart form and rely on the Origin check above;
- every answer carries `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
  `Referrer-Policy: no-referrer`; the dashboard's page and files a CSP without inline script.

starlette's TrustedHostMiddleware checks hosts too, but answers a plain-text 400; every
refusal here is problem+json (under /v2 the protocol's {"error": ...}).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import is_oip_path, problem_response

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a browser sends cross-site with no pre-flight (the CORS-safelisted types).
SIMPLE_TYPES = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
UPLOAD_ROUTES = (re.compile(r"/v1/datasets/?"), re.compile(r"/v1/models/[^/]+/versions/?"))
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The API's dated version (Stripe and GitHub style): answered on every response; a request
# may name it, and a version this service does not speak is refused (400) rather than
# served with other shapes. docs/api.md keeps the changes between versions.
API_VERSION_DATE = "2026-12-05"
WATCHED = frozenset((b"host", b"sec-fetch-site", b"origin", b"content-type", b"api-version"))
# Content types the checks below let through, as clients send them (no parsing needed).
ACCEPTED_AS_IS = frozenset((b"application/json", b"application/x-npy"))
ALWAYS = [
    (b"api-version", API_VERSION_DATE.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def host_name(value: str) -> str:
    """The name part of a Host header or an Origin's netloc, lowercase, without the port."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(name: str, allowed: frozenset[str]) -> bool:
    if "*" in allowed or name in allowed:
        return True
    return any(p.startswith("*.") and name.endswith(p[1:]) for p in allowed)


class RequestGuard:
    def __init__(self, app: ASGIApp, *, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers_for(scope)]
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:  # carries the headers every answer carries, as the rest
            await refusal(scope, receive, send_with_headers)
            return

        await self.app(scope, receive, send_with_headers)

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """What every answer carries (read once the request is handled: the rate limit's
        headers are the request's own, service.rate_limits)."""
        extra = ALWAYS
        if scope["path"] == "/ui" or scope["path"].startswith("/ui/"):
            extra = [*ALWAYS, (b"content-security-policy", CSP.encode())]
        limits = scope.get("state", {}).get("rate_limit")
        if limits:
            extra = [*extra, *((k.lower().encode(), v.encode()) for k, v in limits.items())]
        return extra

    def refusal(self, scope: Scope) -> Response | None:
        host = version = site = origin = kind = None  # lowercase names (ASGI)
        for name, value in scope["headers"]:
            if name in WATCHED:
                if name == b"host":
                    host = value
                elif name == b"content-type":
                    kind = value
                elif name == b"api-version":
                    version = value
                elif name == b"origin":
                    origin = value
                else:
                    site = value
        name = host_name((host or b"").decode("latin-1"))
        if not host_allowed(name, self.allowed):
            return _refuse(
                scope,
                400,
                "Bad Request",
                f"the Host header {name!r} is not one this service answers to "
                "(AESVC_ALLOWED_HOSTS)",
                "host-not-allowed",
            )
        if version is not None and version.decode("latin-1").strip() != API_VERSION_DATE:
            return _refuse(
                scope,
                400,
                "Bad Request",
                f"API-Version {version.decode('latin-1')!r} is not served here; this service "
                f"speaks {API_VERSION_DATE} (docs/api.md lists the changes)",
                "api-version-unsupported",
            )
        if scope["method"] in SAFE_METHODS:
            return None
        if site is not None or origin is not None:
            refusal = _cross_site(scope, site, origin, host)
            if refusal is not None:
                return refusal
        if kind is None or kind in ACCEPTED_AS_IS:
            return None
        media = kind.decode("latin-1").split(";", 1)[0].strip().lower()
        upload = media == "multipart/form-data" and any(
            route.fullmatch(scope["path"]) for route in UPLOAD_ROUTES
        )
        if media in SIMPLE_TYPES and not upload:
            return _refuse(
                scope,
                415,
                "Unsupported Media Type",
                f"content type {media!r} is not accepted here; send application/json (or the "
                "route's binary type)",
                "unsupported-media-type",
            )
        return None


def _netloc(origin: str) -> str | None:
    """The Origin's host and port; None for one that is not a URL (`http://[`): no match."""
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return None


def _cross_site(
    scope: Scope, site_header: bytes | None, origin_header: bytes | None, host: bytes | None
) -> Response | None:
    site = (site_header or b"").decode("latin-1").lower()
    origin = None if origin_header is None else origin_header.decode("latin-1")
    # the page's origin must be this service itself (scheme aside: TLS may end at a proxy)
    if site in ("cross-site", "same-site") or (
        origin is not None and _netloc(origin) != (host or b"").decode("latin-1").lower()
    ):
        return _refuse(
            scope,
            403,
            "Forbidden",
            f"a cross-site request may not change anything (Origin {origin!r}, "
            f"Sec-Fetch-Site {site or None!r})",
            "cross-site-request",
        )
    return None


def _refuse(scope: Scope, status: int, title: str, detail: str, slug: str) -> Response:
    if is_oip_path(scope["path"]):
        return JSONResponse({"error": detail}, status_code=status)
    return problem_response(status, title, detail, slug=slug, instance=scope["path"])
