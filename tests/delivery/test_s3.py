"""S3 persistence against a real S3-compatible server the test starts: moto in server mode on 127.0.0.1 (an
ephemeral port), with s3fs pointed at it through fsspec's own configuration. No mock of fsspec or s3fs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

import imgsdk
from delivery.support import Loopback, no_sleep, no_sleep_async, png_bytes

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
BUCKET = "imgsdk-renders"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    import fsspec

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint, "key": "testing", "secret": "testing"})
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    fsspec.filesystem("s3").invalidate_cache()
    try:
        yield fsspec.filesystem("s3", skip_instance_cache=True)
    finally:
        server.stop()


def test_result_save_writes_objects_to_s3(s3: Any) -> None:
    with imgsdk.Client({}, sleep=no_sleep) as client:
        result = client.generate("a lighthouse", provider="local:placeholder", size="64x64", n=2)
    paths = result.save(f"s3://{BUCKET}/renders/", template="{slug}-{index}.{ext}")
    assert paths == [f"s3://{BUCKET}/renders/a-lighthouse-1.png", f"s3://{BUCKET}/renders/a-lighthouse-2.png"]
    assert s3.cat(f"{BUCKET}/renders/a-lighthouse-2.png") == result.images[1].data
    assert sorted(s3.ls(f"{BUCKET}/renders", detail=False)) == [f"{BUCKET}/renders/a-lighthouse-1.png",
                                                                 f"{BUCKET}/renders/a-lighthouse-2.png"]


def test_persist_to_s3_streams_a_provider_url_and_points_url_at_a_presigned_copy(s3: Any) -> None:
    """DALL·E answers with a temporary URL: on arrival the image is downloaded in chunks to a staged file,
    uploaded to S3, and image.url becomes a presigned URL of the stored object (which S3 then serves)."""
    big = png_bytes(300, 200, (40, 80, 120))
    with Loopback() as api, Loopback({"/tmp-url.png": lambda s: (200, {"content-type": "image/png"}, big)}) as cdn:
        api.routes["/v1/images/generations"] = lambda s: (200, {"content-type": "application/json"}, json.dumps(
            {"created": 1, "data": [{"url": cdn.url("/tmp-url.png"), "revised_prompt": "a grey heron"}]}).encode())
        config = {"providers": {"dalle": {"model": "openai:dall-e-3", "base_url": api.url("/v1"), "api_key": "sk-t",
                                          "allowed_hosts": ["127.0.0.1"], "persist_to": f"s3://{BUCKET}/kept",
                                          "filename_template": "{slug}.{ext}"}}}
        with imgsdk.Client(config, sleep=no_sleep) as client:
            result = client.generate("a heron", provider="dalle")
    image = result.images[0]
    assert cdn.count("/tmp-url.png") == 1 and "authorization" not in cdn.seen[0].headers
    assert image.path == f"s3://{BUCKET}/kept/a-heron.png"
    assert image._data is None  # streamed through a file, never held in memory
    assert s3.cat(f"{BUCKET}/kept/a-heron.png") == big
    parts = urlsplit(image.url)
    assert parts.path == f"/{BUCKET}/kept/a-heron.png" and "Signature=" in parts.query
    assert image.expires_at is not None and image.revised_prompt == "a grey heron"
    assert httpx2.get(image.url).content == big  # the presigned URL works against the S3 server
    assert image.data == big  # read back from the stored copy


def test_persist_to_s3_on_arrival_from_the_profile(s3: Any) -> None:
    config = {"providers": {"p": {"model": "local:placeholder", "persist_to": f"s3://{BUCKET}/auto",
                                  "filename_template": "{index}.{ext}"}}, "default": "p"}
    with imgsdk.Client(config, sleep=no_sleep) as client:
        result = client.generate("an owl", size="64x64", n=2)
    assert [image.path for image in result.images] == [f"s3://{BUCKET}/auto/1.png", f"s3://{BUCKET}/auto/2.png"]
    assert all("Signature=" in image.url for image in result.images)
    assert s3.cat(f"{BUCKET}/auto/1.png") == result.images[0].data


async def test_async_persist_to_s3(s3: Any) -> None:
    async with imgsdk.AsyncClient({}, sleep=no_sleep_async) as client:
        result = await client.generate("a crane", provider="local:placeholder", size="64x64",
                                       persist_to=f"s3://{BUCKET}/async", filename_template="{slug}.{ext}")
    assert result.images[0].path == f"s3://{BUCKET}/async/a-crane.png"
    assert s3.cat(f"{BUCKET}/async/a-crane.png") == result.images[0].data
