"""The public surface: exported names, import cost, results and images, secrets, error messages."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg_bytes, png_bytes
from PIL import Image

import imgsdk
from imgsdk import errors
from imgsdk.adapter import Endpoint, Secret
from imgsdk.errors import (
    ConfigError,
    ContentPolicyError,
    ImgSDKError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelRetiredError,
    ModelUnavailableError,
    ProviderError,
    RateLimitError,
    RequestRejectedError,
    UnsupportedOptionError,
)
from imgsdk.request import RequestWarning
from imgsdk.result import GeneratedImage, ImageResult


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


# -- names ---------------------------------------------------------------------------------------------------------

def test_all_is_sorted_and_unique() -> None:
    assert imgsdk.__all__ == sorted(imgsdk.__all__)
    assert len(set(imgsdk.__all__)) == len(imgsdk.__all__)


def test_every_exported_name_resolves_in_a_fresh_interpreter(tmp_path: Path) -> None:
    code = """
import imgsdk, json
kinds = {name: type(getattr(imgsdk, name)).__name__ for name in imgsdk.__all__}
print(json.dumps(kinds))
"""
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    kinds = json.loads(done.stdout)
    assert set(kinds) == set(imgsdk.__all__)
    # ("capabilities" is checked by test_capabilities_function_survives_using_the_sdk: resolving the other
    # names imports the submodule of the same name, which currently replaces the function.)
    for name in ("generate", "agenerate", "register", "render"):
        assert kinds[name] == "function", name
    assert kinds["node"] == "module"
    assert kinds["__version__"] == "str"
    for name in ("Client", "AsyncClient", "ImageResult", "GeneratedImage", "ImgSDKError", "UnsupportedOptionError"):
        assert kinds[name] == "type", name


def test_every_error_class_is_exported_and_drawn_in_the_tree() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, ImgSDKError)
        assert name in errors.__doc__  # type: ignore[operator]
        assert getattr(imgsdk, name) is cls


def test_dir_lists_the_public_names() -> None:
    assert dir(imgsdk) == sorted(imgsdk.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        imgsdk.nope  # noqa: B018
    with pytest.raises(AttributeError):
        imgsdk.NoSuchError  # noqa: B018


def test_public_entry_points_are_keyword_only_where_documented() -> None:
    import inspect

    for function in (imgsdk.Client.generate, imgsdk.AsyncClient.generate):
        parameters = inspect.signature(function).parameters
        for name in ("provider", "size", "quality", "style", "n", "seed", "on_unsupported"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert callable(imgsdk.Client.from_file) and callable(imgsdk.AsyncClient.from_file)


# -- import cost --------------------------------------------------------------------------------------------------

HEAVY = ("httpx2", "pydantic", "openai", "fsspec", "rich", "PIL", "tenacity")


def test_importing_imgsdk_is_cheap(tmp_path: Path) -> None:
    code = f"""
import sys, json
import imgsdk
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_offline_path_never_imports_the_http_stack(tmp_path: Path) -> None:
    code = """
import sys, json
import imgsdk
result = imgsdk.generate("a fox", size="64x64")
print(json.dumps({"size": result.size, "httpx2": "httpx2" in sys.modules, "openai": "openai" in sys.modules}))
"""
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"size": "64x64", "httpx2": False, "openai": False}


def test_capabilities_function_survives_using_the_sdk(tmp_path: Path) -> None:
    code = """
import imgsdk
first = imgsdk.capabilities("local:placeholder").model
imgsdk.generate("a fox", size="64x64")
second = imgsdk.capabilities("local:placeholder").model
print(first, second)
"""
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["placeholder", "placeholder"]


def test_capabilities_function_first_call(tmp_path: Path) -> None:
    done = python("import imgsdk; c = imgsdk.capabilities('local:placeholder'); print(c.model, c.protocol)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["placeholder", "sync"]


# -- GeneratedImage --------------------------------------------------------------------------------------------------

def test_bytes_get_a_data_url_and_a_sniffed_media_type() -> None:
    data = png_bytes(30, 20)
    image = GeneratedImage.from_bytes(data, "a fox")
    assert image.url.startswith("data:image/png;base64,")
    assert image.media_type == "image/png"
    assert image.data == data
    assert image.size == "30x20"
    assert image.extension == "png"
    assert image.revised_prompt == "a fox"
    again = GeneratedImage(url=image.url, revised_prompt="a fox")  # only the URL: bytes decoded from it
    assert again.data == data and again.size == "30x20"


@pytest.mark.parametrize(("pil_format", "media_type", "extension"), [
    ("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp"),
    ("GIF", "image/gif", "gif"),
])
def test_media_type_is_sniffed_from_the_bytes(pil_format: str, media_type: str, extension: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (12, 7), (1, 2, 3)).save(out, format=pil_format)
    image = GeneratedImage.from_bytes(out.getvalue(), "p", media_type="application/octet-stream")
    assert image.media_type == media_type
    assert image.extension == extension
    assert image.size == "12x7"
    assert image.url.startswith(f"data:{media_type};base64,")


def test_declared_media_type_is_the_fallback_for_unknown_bytes() -> None:
    image = GeneratedImage.from_bytes(b"not an image we know", "p", media_type="image/heic")
    assert image.media_type == "image/heic"
    assert image.size is None
    unknown = GeneratedImage.from_bytes(b"????", "p")
    assert unknown.media_type == "application/octet-stream"
    assert unknown.url.startswith("data:application/octet-stream;base64,")


def test_a_url_only_image_reports_its_size_and_needs_a_fetcher() -> None:
    image = GeneratedImage(url="https://cdn.example/x.png", revised_prompt="p", reported_size="1024x1024")
    assert image.size == "1024x1024"
    with pytest.raises(RuntimeError, match="fetch"):
        _ = image.data


def test_a_url_only_image_fetches_once() -> None:
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return jpeg_bytes(16, 9)

    image = GeneratedImage(url="https://cdn.example/x", revised_prompt="p", media_type="image/png",
                           reported_size="1x1", _fetch=fetch)
    assert image.data[:3] == b"\xff\xd8\xff"
    assert image.data[:3] == b"\xff\xd8\xff"
    assert calls == ["https://cdn.example/x"]
    assert image.media_type == "image/jpeg"  # the bytes win over the declaration
    assert image.size == "16x9"


def _result(*images: GeneratedImage, prompt: str = "A red fox, in snow!") -> ImageResult:
    return ImageResult(images=list(images), provider="local:placeholder", model="placeholder", prompt=prompt,
                       warnings=[RequestWarning("dropped", "style", "vivid", None, "style dropped")])


def test_result_shortcuts_and_node_output() -> None:
    image = GeneratedImage.from_bytes(png_bytes(40, 30), "the revised prompt")
    result = _result(image, GeneratedImage.from_bytes(png_bytes(8, 8), "second"))
    assert (result.url, result.revised_prompt, result.size) == (image.url, "the revised prompt", "40x30")
    assert result.to_node_output() == {"url": image.url, "revised_prompt": "the revised prompt", "size": "40x30"}
    text = repr(result)
    assert "images=2" in text and "warnings=1" in text and "base64" not in text


def test_empty_result_shortcuts_say_why() -> None:
    with pytest.raises(IndexError, match="errors"):
        _ = _result().url


def test_save_to_a_directory(tmp_path: Path) -> None:
    result = _result(GeneratedImage.from_bytes(png_bytes(), "p"), GeneratedImage.from_bytes(jpeg_bytes(), "p"))
    paths = result.save(tmp_path / "out")
    assert [p.suffix for p in paths] == [".png", ".jpg"]  # the right extension for each image's bytes
    assert all("a-red-fox-in-snow" in p.name for p in paths)  # named after the prompt
    assert len({p.name for p in paths}) == 2
    assert all(p.parent == tmp_path / "out" for p in paths)
    assert Image.open(paths[0]).format == "PNG" and Image.open(paths[1]).format == "JPEG"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)  # no temp files


def test_save_to_an_existing_directory_and_the_default(tmp_path: Path) -> None:
    (tmp_path / "existing.dir").mkdir()
    result = _result(GeneratedImage.from_bytes(png_bytes(), "p"))
    assert result.save(tmp_path / "existing.dir")[0].parent == tmp_path / "existing.dir"
    saved = result.save()[0].resolve()
    assert saved.parent == tmp_path.resolve()  # the default is the current directory (tmp_path here)
    assert saved.suffix == ".png" and "a-red-fox-in-snow" in saved.name


def test_save_to_a_file_name(tmp_path: Path) -> None:
    data = png_bytes(20, 10)
    paths = _result(GeneratedImage.from_bytes(data, "p")).save(tmp_path / "sub" / "fox.png")
    assert paths == [tmp_path / "sub" / "fox.png"]
    assert paths[0].read_bytes() == data  # same format: written untouched


def test_save_several_images_to_a_file_name_numbers_them(tmp_path: Path) -> None:
    result = _result(GeneratedImage.from_bytes(png_bytes(), "p"), GeneratedImage.from_bytes(png_bytes(), "p"))
    assert [p.name for p in result.save(tmp_path / "fox.png")] == ["fox-1.png", "fox-2.png"]


@pytest.mark.parametrize(("name", "pil_format"), [("fox.jpg", "JPEG"), ("fox.jpeg", "JPEG"), ("fox.webp", "WEBP")])
def test_save_converts_to_the_extension_asked_for(tmp_path: Path, name: str, pil_format: str) -> None:
    path = _result(GeneratedImage.from_bytes(png_bytes(20, 10), "p")).save(tmp_path / name)[0]
    with Image.open(path) as image:
        assert image.format == pil_format
        assert image.size == (20, 10)


def test_save_jpeg_bytes_as_png(tmp_path: Path) -> None:
    path = GeneratedImage.from_bytes(jpeg_bytes(9, 9), "p").save(tmp_path / "x.png")
    assert Image.open(path).format == "PNG"


def test_a_prompt_cannot_escape_the_directory(tmp_path: Path) -> None:
    result = _result(GeneratedImage.from_bytes(png_bytes(), "p"), prompt="../../../etc/passwd")
    path = result.save(tmp_path / "out")[0]
    assert path.parent == tmp_path / "out"
    assert path.is_file()
    assert "etc-passwd" in path.name and ".." not in path.name and "/" not in path.name


# -- secrets ---------------------------------------------------------------------------------------------------------

def test_secret_never_shows_itself() -> None:
    secret = Secret("sk-super-secret-value")
    for text in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"k": secret})):
        assert "sk-super-secret-value" not in text
    assert secret.get() == "sk-super-secret-value"
    assert secret == Secret("sk-super-secret-value") and secret != Secret("other")
    assert bool(secret) and not bool(Secret(""))
    assert len({secret, Secret("sk-super-secret-value")}) == 1


def test_endpoint_repr_hides_the_key() -> None:
    endpoint = Endpoint(base_url="https://api.example/v1", api_key=Secret("sk-endpoint-secret"),
                        settings={"deployment": "d"})
    text = repr(endpoint)
    assert "sk-endpoint-secret" not in text
    assert "api_key=set" in text and "https://api.example/v1" in text
    assert "api_key=None" in repr(Endpoint(base_url="http://x"))


def test_profile_repr_hides_the_key() -> None:
    from imgsdk.config import load_config

    profile = load_config({"providers": {"p": {"model": "local", "api_key": "sk-profile-secret"}}}).profiles["p"]
    assert "sk-profile-secret" not in repr(profile)


# -- error messages ---------------------------------------------------------------------------------------------------

def test_provider_error_names_adapter_model_status_code_and_request_id() -> None:
    error = ProviderError("the server is sad", adapter="openai", model="gpt-image-2", status=503,
                          request_id="req_abc", code="server_error", body={"error": {}})
    text = str(error)
    assert text.startswith("the server is sad")
    for part in ("openai:gpt-image-2", "HTTP 503", "code server_error", "request id req_abc"):
        assert part in text
    assert (error.detail, error.status, error.request_id, error.body) == ("the server is sad", 503, "req_abc",
                                                                          {"error": {}})
    assert error.exit_code == 4


def test_provider_error_without_context_is_just_the_message() -> None:
    assert str(ProviderError("plain")) == "plain"


def test_provider_error_without_a_model_does_not_say_none() -> None:
    assert "None" not in str(ProviderError("denied", adapter="openai", status=401))


@pytest.mark.parametrize(("cls", "kwargs", "bases"), [
    (RequestRejectedError, {"adapter": "a", "model": "m", "status": 400}, (ProviderError, InvalidRequestError)),
    (ModelUnavailableError, {"adapter": "a", "model": "m", "status": 404}, (ProviderError, ModelNotFoundError)),
])
def test_mixed_errors_keep_their_provider_context(cls: type[ProviderError], kwargs: dict[str, Any],
                                                  bases: tuple[type, ...]) -> None:
    error = cls("bad", **kwargs)
    assert all(isinstance(error, base) for base in bases)
    assert (error.adapter, error.model, error.status) == ("a", "m", kwargs["status"])
    assert "a:m" in str(error) and error.exit_code == 2


def test_typed_error_details() -> None:
    rate = RateLimitError("slow", retry_after=2.5, adapter="a", model="m", status=429)
    assert rate.retry_after == 2.5 and "HTTP 429" in str(rate)
    policy = ContentPolicyError("refused", stage="input", reason="violence", adapter="a", model="m", status=400)
    assert (policy.stage, policy.reason, policy.exit_code) == ("input", "violence", 3)
    retired = ModelRetiredError("gone", adapter="openai", model="dall-e-3", shutdown="2026-05-12",
                                replacement="gpt-image-2")
    assert (retired.shutdown, retired.replacement) == ("2026-05-12", "gpt-image-2")
    unsupported = UnsupportedOptionError("no", option="style", value="vivid", allowed=())
    assert (unsupported.option, unsupported.value, unsupported.allowed) == ("style", "vivid", ())
    assert isinstance(unsupported, InvalidRequestError) and unsupported.exit_code == 2


def test_config_error_names_file_and_key() -> None:
    error = ConfigError("expected int", path="/etc/imgsdk.toml", key="providers.a.n")
    assert str(error) == "/etc/imgsdk.toml, key 'providers.a.n': expected int"
    assert str(ConfigError("plain")) == "plain"
