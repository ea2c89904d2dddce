"""Safe downloads against real loopback servers (the loopback allowance is configured explicitly)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlsplit

import pytest

import imgsdk
from delivery.support import (
    AsyncRecordingTransport,
    Loopback,
    RecordingTransport,
    Seen,
    no_sleep,
    no_sleep_async,
    png_bytes,
)
from imgsdk.download import DownloadPolicy, DownloadRefusedError, check_url
from imgsdk.errors import ImageExpiredError, ProviderError, ServiceUnavailableError

PNG = png_bytes(16, 8)
LOOPBACK_ALLOWED = {"providers": {"p": {"model": "local:placeholder", "allowed_hosts": ["127.0.0.1"]}},
                    "default": "p"}


def image(_: Seen) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "image/png"}, PNG


def client(transport: Any = None, config: Any = None, **options: Any) -> imgsdk.Client:
    return imgsdk.Client(LOOPBACK_ALLOWED if config is None else config, transport=transport, sleep=no_sleep,
                         **options)


def test_a_loopback_image_downloads_when_loopback_is_allowed() -> None:
    with Loopback({"/img.png": image}) as server, client() as c:
        assert c.fetch(server.url("/img.png")) == PNG


def test_loopback_and_http_are_refused_without_an_allowance() -> None:
    with Loopback({"/img.png": image}) as server, client(config={}) as c:
        with pytest.raises(DownloadRefusedError, match="loopback, private or link-local"):
            c.fetch(server.url("/img.png"))
        assert server.seen == []  # refused before connecting


def test_http_is_refused_even_for_a_public_address() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    recording = RecordingTransport()
    with client(recording, config={}, resolver=resolver) as c, pytest.raises(DownloadRefusedError, match="plain http"):
        c.fetch("http://images.example.com/x.png")
    assert recording.urls == []


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: the name answers 127.0.0.1 to the check; a second lookup would answer something else
    (and images.rebind.test does not resolve on this machine at all). The connection must go to the address
    checked, with the name kept in the Host header, and the name must be looked up once."""
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.9.9.9"]

    allowed = {"providers": {"p": {"model": "local:placeholder", "allow_private": True}}, "default": "p"}
    with Loopback({"/img.png": image}) as server, client(config=allowed, resolver=resolver) as c:
        port = urlsplit(server.url("/")).port
        assert c.fetch(f"http://images.rebind.test:{port}/img.png") == PNG
        assert lookups == ["images.rebind.test"]
        assert [seen.headers["host"] for seen in server.seen] == [f"images.rebind.test:{port}"]


def test_a_pinned_https_download_verifies_the_certificate_against_the_name() -> None:
    """Real TLS on loopback: the certificate is for images.rebind.test. Pinned to 127.0.0.1, the download still
    verifies it against the name (SNI), and another name on the same address fails verification: the first
    name's connection is not reused for it (pinned connections stay out of the pool)."""
    import ssl

    import httpx2

    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("images.rebind.test").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    allowed = {"providers": {"p": {"model": "local:placeholder", "allow_private": True}}, "default": "p"}
    with Loopback({"/img.png": image}, tls=server_context, keep_alive=True) as server, \
            httpx2.Client(verify=client_context) as http, \
            imgsdk.Client(allowed, http_client=http, resolver=resolver, sleep=no_sleep, max_retries=0) as c:
        assert c.fetch(f"https://images.rebind.test:{server.port}/img.png") == PNG
        assert server.seen[0].headers["host"] == f"images.rebind.test:{server.port}"
        with pytest.raises(ServiceUnavailableError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            c.fetch(f"https://other.rebind.test:{server.port}/img.png")
        assert len(server.seen) == 1  # nothing was sent under the name the certificate does not cover


def test_an_address_that_refuses_connections_is_skipped_within_the_attempt() -> None:
    """The name has two public addresses; the first refuses connections. The same attempt goes on to the
    second (both were checked), as the transport's own connect would, even with no retry allowed."""
    import httpx2

    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.host)
        if request.url.host == "93.184.215.14":
            raise httpx2.ConnectError("connection refused")
        return httpx2.Response(200, content=PNG, headers={"content-type": "image/png"})

    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "93.184.215.15"]

    with client(httpx2.MockTransport(handler), config={}, resolver=resolver, max_retries=0) as c:
        assert c.fetch("https://images.example.com/x.png") == PNG
    assert seen == ["93.184.215.14", "93.184.215.15"]


def test_an_unpinned_request_is_sent_once_whatever_the_number_of_addresses() -> None:
    """Routed through a mounted transport (as through a proxy), the URL is not pinned: a failed connection is
    one failure, not one per checked address."""
    import httpx2

    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        raise httpx2.ConnectError("connection refused")

    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "93.184.215.15", "93.184.215.16"]

    with httpx2.Client(mounts={"https://": httpx2.MockTransport(handler)}) as http, \
            imgsdk.Client({}, http_client=http, resolver=resolver, sleep=no_sleep, max_retries=0) as c, \
            pytest.raises(ServiceUnavailableError):
        c.fetch("https://images.example.com/x.png")
    assert seen == ["https://images.example.com/x.png"]


@pytest.mark.parametrize(("address", "expected"), [
    ("93.184.215.14", "https://93.184.215.14/a/b.png?sig=1"),
    ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/a/b.png?sig=1"),
])
def test_a_pinned_https_request_keeps_the_name_for_tls_and_host(address: str, expected: str) -> None:
    import httpx2

    from imgsdk.download import Open
    from imgsdk.streaming import _request
    from imgsdk.wire import WireRequest

    with httpx2.Client() as http:
        request, pinned = _request(http, Open(WireRequest("GET", "https://cdn.example.com/a/b.png?sig=1")), address)
        plain, unpinned = _request(http, Open(WireRequest("GET", "https://cdn.example.com/a/b.png?sig=1")), None)
    assert pinned and not unpinned
    assert str(request.url) == expected
    assert request.headers["host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"  # SNI and certificate check use the name
    assert request.headers["connection"] == "close"  # not pooled under the address (see the test above)
    assert str(plain.url) == "https://cdn.example.com/a/b.png?sig=1" and "sni_hostname" not in plain.extensions


def test_no_pin_where_a_proxy_or_mount_routes_the_url_and_idna_names_in_sni() -> None:
    """A proxy (or a mounted transport) chooses by host name (NO_PROXY, allow-lists) and resolves the name
    itself: the URL goes as it is. An internationalised name goes to SNI in its IDNA form."""
    import httpx2

    from imgsdk.download import Open
    from imgsdk.streaming import _request
    from imgsdk.wire import WireRequest

    open_ = Open(WireRequest("GET", "https://cdn.example.com/a.png"), addresses=("93.184.215.14",))
    with httpx2.Client(mounts={"https://cdn.example.com": httpx2.HTTPTransport()}) as routed:
        request, pinned = _request(routed, open_, "93.184.215.14")
    assert not pinned
    assert str(request.url) == "https://cdn.example.com/a.png" and "sni_hostname" not in request.extensions
    with httpx2.Client() as http:
        idn, _ = _request(http, Open(WireRequest("GET", "https://straße.example/a.png")), "93.184.215.14")
    assert idn.extensions["sni_hostname"] == "xn--strae-oqa.example"
    assert idn.headers["host"] == "xn--strae-oqa.example"


def test_allow_private_allows_http_to_loopback_only() -> None:
    policy = DownloadPolicy(allow_private=True)
    assert list(check_url("http://127.0.0.1:9/x.png", policy)) == []
    resolve = check_url("http://cdn.example.net/x.png", policy)
    next(resolve)  # asks for the addresses
    with pytest.raises(DownloadRefusedError, match="plain http"):
        resolve.send(["10.1.2.3"])  # a private address is allowed here, but not over http


@pytest.mark.parametrize("target", ["https://10.0.0.1/x.png", "http://10.0.0.1/x.png", "https://192.168.1.20/x.png",
                                    "https://169.254.169.254/latest/meta-data", "https://[::1]/x.png",
                                    "https://[::ffff:10.0.0.1]/x.png", "https://internal.example/x.png"])
def test_a_redirect_to_a_private_address_is_refused_before_any_connection(target: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "192.168.7.7"] if host == "internal.example" else []  # every address is checked

    def redirect(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 302, {"location": target}, b""

    recording = RecordingTransport()
    with Loopback({"/start.png": redirect}) as server, client(recording, resolver=resolver) as c, \
            pytest.raises(DownloadRefusedError) as caught:
        c.fetch(server.url("/start.png"))
    assert recording.urls == [server.url("/start.png")]  # the private target never got a request
    assert server.count("/start.png") == 1
    assert str(urlsplit(target).hostname) in str(caught.value)  # the message names the refused host


async def test_the_async_client_refuses_the_same_redirect() -> None:
    def redirect(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 307, {"location": "https://10.0.0.1/x.png"}, b""

    recording = AsyncRecordingTransport()
    with Loopback({"/start.png": redirect}) as server:
        async with imgsdk.AsyncClient(LOOPBACK_ALLOWED, transport=recording, sleep=no_sleep_async) as c:
            with pytest.raises(DownloadRefusedError, match=r"10\.0\.0\.1"):
                await c.fetch(server.url("/start.png"))
    assert recording.urls == [server.url("/start.png")]


def test_redirects_between_allowed_hosts_are_followed_and_capped() -> None:
    def hop(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        number = int(seen.path.split("/")[-1])
        return 302, {"location": f"/hop/{number + 1}"}, b""

    with Loopback({f"/hop/{i}": hop for i in range(10)} | {"/a": lambda s: (301, {"location": "/img.png"}, b""),
                                                           "/img.png": image}) as server, client() as c:
        assert c.fetch(server.url("/a")) == PNG
        with pytest.raises(DownloadRefusedError, match="more than 5 redirects"):
            c.fetch(server.url("/hop/0"))


def test_size_cap_by_content_length_and_by_bytes_read() -> None:
    config = {"providers": {"p": {"model": "local:placeholder", "allowed_hosts": ["127.0.0.1"],
                                  "max_download_bytes": 100}}, "default": "p"}
    big = png_bytes(300, 300, (1, 2, 3)) + b"\0" * 500

    def chunked(_: Seen) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "image/png", "content-length": ""}, big  # no usable length

    routes = {"/big.png": lambda s: (200, {"content-type": "image/png"}, big), "/chunked.png": chunked}
    with Loopback(routes) as server, client(config=config) as c:
        with pytest.raises(DownloadRefusedError, match="over the 100-byte cap"):
            c.fetch(server.url("/big.png"))
        with pytest.raises(DownloadRefusedError, match="more than 100 bytes"):
            c.fetch(server.url("/chunked.png"))


def test_content_type_and_magic_bytes_are_checked() -> None:
    routes = {"/page": lambda s: (200, {"content-type": "text/html"}, b"<html>hello</html>" * 4),
              "/fake.png": lambda s: (200, {"content-type": "image/png"}, b"GIF? no: just text, not an image" * 2),
              "/octet": lambda s: (200, {"content-type": "application/octet-stream"}, PNG)}
    with Loopback(routes) as server, client() as c:
        with pytest.raises(DownloadRefusedError, match="'text/html', not an image"):
            c.fetch(server.url("/page"))
        with pytest.raises(DownloadRefusedError, match="not a known image format"):
            c.fetch(server.url("/fake.png"))
        assert c.fetch(server.url("/octet")) == PNG  # S3-style generic type: the bytes decide


def test_transient_failures_are_retried_then_succeed() -> None:
    answers = iter([(503, {}, b"busy"), (429, {}, b"slow down"), (200, {"content-type": "image/png"}, PNG)])
    with Loopback({"/img.png": lambda s: next(answers)}) as server, client() as c:
        assert c.fetch(server.url("/img.png")) == PNG
        assert server.count("/img.png") == 3


def test_a_lasting_outage_gives_up_after_the_retries() -> None:
    with Loopback({"/img.png": lambda s: (502, {}, b"bad gateway")}) as server, client() as c:
        with pytest.raises(ServiceUnavailableError, match="HTTP 502"):
            c.fetch(server.url("/img.png"))
        assert server.count("/img.png") == 3  # max_retries=2


def test_an_expired_url_says_when_it_expired() -> None:
    expired = dt.datetime(2026, 11, 29, 8, 30, tzinfo=dt.UTC)
    with Loopback({"/gone.png": lambda s: (403, {"content-type": "application/xml"}, b"<Error>AuthenticationFailed")}) \
            as server, client() as c:
        with pytest.raises(ImageExpiredError) as caught:
            c.fetch(server.url("/gone.png"), expires_at=expired)
        assert caught.value.expired_at == "2026-11-29T08:30:00+00:00"
        assert "expired at 2026-11-29T08:30:00+00:00" in str(caught.value)
        assert server.count("/gone.png") == 1  # not retried
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        with pytest.raises(ProviderError, match="HTTP 403") as not_yet:
            c.fetch(server.url("/gone.png"), expires_at=later)
        assert not isinstance(not_yet.value, ImageExpiredError)


def test_an_image_carries_its_expiry_into_the_lazy_fetch() -> None:
    """The generated image's expires_at reaches the download: image.data raises ImageExpiredError."""
    with Loopback({"/gone.png": lambda s: (404, {}, b"")}) as server, client() as c:
        result = c.generate("a fox", provider="p")
        picture = result.images[0]
        picture.url, picture._data = server.url("/gone.png"), None
        picture.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        with pytest.raises(ImageExpiredError, match="5 min ago"):
            _ = picture.data


def test_the_api_key_is_sent_to_the_provider_origin_only() -> None:
    """Credentials (adapter.auth_headers) go with URLs under base_url, never after a redirect elsewhere."""
    from imgsdk.adapter import Adapter, Endpoint
    from imgsdk.registry import register

    @register
    class KeyedImages(Adapter):
        name = "keyed-images"
        key_required = False

        def auth_headers(self, endpoint: Endpoint) -> dict[str, str]:
            return {"authorization": "Bearer sk-delivery-secret"}

    with Loopback({"/img.png": image}) as cdn, Loopback() as api:
        api.routes["/view"] = image
        api.routes["/moved"] = lambda s: (302, {"location": cdn.url("/img.png")}, b"")
        config = {"providers": {"k": {"model": "keyed-images:m", "base_url": api.url(""), "allow_unknown_model": True,
                                      "allowed_hosts": ["127.0.0.1"]}}}
        with client(config=config) as c:
            c.target("k")
            assert c.fetch(api.url("/view"), provider="k") == PNG
            assert c.fetch(api.url("/moved"), provider="k") == PNG
    assert api.seen[0].headers.get("authorization") == "Bearer sk-delivery-secret"
    assert [s.headers.get("authorization") for s in api.seen] == ["Bearer sk-delivery-secret"] * 2
    assert cdn.seen and all("authorization" not in s.headers for s in cdn.seen)


def test_the_profile_api_origin_is_trusted_for_its_own_images() -> None:
    """A local server configured as base_url (ComfyUI on http://127.0.0.1) serves its images over http."""
    with Loopback({"/view": image}) as api:
        config = {"providers": {"comfy": {"model": "comfyui:default", "base_url": api.url("")}}}
        with client(config=config) as c:
            assert c.fetch(api.url("/view")) == PNG


def test_download_streams_into_the_sink_in_chunks() -> None:
    from imgsdk.download import download
    from imgsdk.engine import RetrySettings
    from imgsdk.streaming import drive_sync

    big = png_bytes(600, 600, (9, 9, 9))
    writes: list[int] = []

    class Sink(io.BytesIO):
        def write(self, data: Any) -> int:
            writes.append(len(data))
            return super().write(data)

    sink = Sink()
    with Loopback({"/big.png": lambda s: (200, {"content-type": "image/png"}, big * 30)}) as server, client() as c:
        policy = DownloadPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
        drive_sync(download(server.url("/big.png"), sink, policy, RetrySettings()), c._client, no_sleep)
    assert sink.getvalue() == big * 30
    assert len(writes) > 1 and max(writes) <= 64 * 1024  # written chunk by chunk, never as one buffer


# -- a call's own timeout governs its requests on imgsdk's own HTTP client -----------------------------------------

def test_with_options_can_lengthen_the_timeout_of_each_request() -> None:
    """Client(timeout=0.3).with_options(timeout=10): a generation that takes 0.8 s must not be cut by the
    shared pool's 0.3 s read timeout (and re-sent, paid twice)."""
    import base64
    import json
    import time

    def slow(_: Seen) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.8)
        return 200, {"content-type": "application/json"}, json.dumps(
            {"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}).encode()

    with Loopback({"/v1/images/generations": slow}) as server:
        config = {"providers": {"p": {"model": "openai-compatible:m", "base_url": server.url("/v1"),
                                      "allow_unknown_model": True}}, "default": "p"}
        with imgsdk.Client(config, timeout=0.3, max_retries=1, sleep=no_sleep) as base:
            assert base.with_options(timeout=10).generate("a fox").images[0].data == PNG
            assert server.count("/v1/images/generations") == 1


def test_a_client_passed_in_keeps_its_own_timeouts_as_caps() -> None:
    import httpx2

    from imgsdk.transport import to_httpx
    from imgsdk.wire import WireRequest

    request = WireRequest("POST", "https://api.example.com/v1/images/generations", json={"prompt": "a fox"})
    with httpx2.Client(timeout=httpx2.Timeout(5.0, connect=0.5)) as http:
        own = to_httpx(http, request, 30.0, extend=True).extensions["timeout"]
        theirs = to_httpx(http, request, 30.0).extensions["timeout"]
        capped = to_httpx(http, request, 2.0).extensions["timeout"]
    assert (own["connect"], own["read"], own["write"], own["pool"]) == (0.5, 30.0, 30.0, 30.0)
    assert (theirs["read"], theirs["connect"]) == (5.0, 0.5)  # no per-request timeout: the client's own
    assert (capped["connect"], capped["read"]) == (0.5, 2.0)  # the deadline caps, whoever made the client
