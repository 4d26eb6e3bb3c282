"""The client's address, resolved once per request and used by both django-axes
(AXES_CLIENT_IP_CALLABLE) and the audit trail, so a lockout and its audit row
always name the same address."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip

_ATTRIBUTE = "strongroom_client_ip"


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    if not hasattr(request, _ATTRIBUTE):
        setattr(request, _ATTRIBUTE, _resolve(request))
    return getattr(request, _ATTRIBUTE)


def _resolve(request: HttpRequest) -> str | None:
    peer = request.META.get("REMOTE_ADDR")
    proxies = settings.CLIENT_PROXY_COUNT
    if not proxies:
        return peer  # nobody in front vouches for X-Forwarded-For: never read it
    # Each proxy appends the address it saw, and the last one is our peer: in the
    # chain "X-Forwarded-For, REMOTE_ADDR" the client is the hop before the
    # configured proxies. Entries further left came from the client and are ignored.
    chain = ", ".join(filter(None, (request.META.get("HTTP_X_FORWARDED_FOR", ""), peer)))
    address, _ = get_client_ip(
        _MetaOnly({"HTTP_X_FORWARDED_FOR": chain}), proxy_order="left-most",
        proxy_count=proxies, request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False)
    # A request that did not come through every proxy (too short a chain) is
    # taken at its word of the peer it really is.
    return address or peer


class _MetaOnly:
    """What ipware reads of a request."""

    def __init__(self, meta: dict) -> None:
        self.META = meta
