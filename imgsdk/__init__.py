"""imgsdk: one honest interface over the world's text-to-image APIs.

::

    import imgsdk

    result = imgsdk.generate("a lighthouse at dawn, watercolour", provider="openai:gpt-image-2",
                             size="1792x1024", quality="hd")
    result.url, result.revised_prompt, result.size, result.warnings
    result.save("out/")

Importing this package is cheap: every name below is loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import node
    from .adapter import Adapter, Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse
    from .capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec, TokenPrices
    from .client import AsyncClient, Client
    from .errors import (
        AuthenticationError,
        ConfigError,
        ContentPolicyError,
        DownloadRefusedError,
        ImageExpiredError,
        ImgSDKError,
        InvalidRequestError,
        ModelNotFoundError,
        ModelRetiredError,
        ModelUnavailableError,
        PermissionDeniedError,
        ProviderError,
        ProviderTimeoutError,
        QuotaExceededError,
        RateLimitError,
        RequestRejectedError,
        ServiceUnavailableError,
        UnsupportedOptionError,
    )
    from .registry import register
    from .request import ImageRequest, RequestWarning
    from .result import GeneratedImage, ImageResult
    from .templates import TemplateError, render

__all__ = [
    "Adapter",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigError",
    "ContentPolicyError",
    "DownloadRefusedError",
    "Endpoint",
    "GeneratedImage",
    "ImageExpiredError",
    "ImageRequest",
    "ImageResult",
    "Images",
    "ImgSDKError",
    "InvalidRequestError",
    "JobHandle",
    "Lifecycle",
    "ModelCapabilities",
    "ModelNotFoundError",
    "ModelRetiredError",
    "ModelUnavailableError",
    "Pending",
    "PermissionDeniedError",
    "Price",
    "ProviderError",
    "ProviderTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestRejectedError",
    "RequestWarning",
    "Secret",
    "ServiceUnavailableError",
    "SizeSpec",
    "TemplateError",
    "TokenPrices",
    "UnsupportedOptionError",
    "WireRequest",
    "WireResponse",
    "__version__",
    "agenerate",
    "capabilities",
    "generate",
    "node",
    "register",
    "render",
]

_LAZY = {
    "Adapter": "adapter", "Endpoint": "adapter", "Images": "adapter", "JobHandle": "adapter", "Pending": "adapter",
    "Secret": "adapter", "WireRequest": "adapter", "WireResponse": "adapter",
    "Lifecycle": "capabilities", "ModelCapabilities": "capabilities", "Price": "capabilities",
    "SizeSpec": "capabilities", "TokenPrices": "capabilities",
    "AsyncClient": "client", "Client": "client",
    "register": "registry", "ImageRequest": "request", "RequestWarning": "request",
    "GeneratedImage": "result", "ImageResult": "result", "TemplateError": "templates", "render": "templates",
}


def __getattr__(name: str) -> Any:
    if name == "node":
        return importlib.import_module(".node", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name.endswith("Error"):
        from . import errors

        if hasattr(errors, name):
            return getattr(errors, name)
    raise AttributeError(f"module 'imgsdk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


# Import the submodule now, so that a later `import imgsdk.capabilities` (any client does it) cannot replace the
# `capabilities()` function below with the module: the import system only sets the attribute on first load.
from . import capabilities as _capabilities_module  # noqa: E402, F401

_default_clients: dict[str, Any] = {}


def _default(kind: str) -> Any:
    if kind not in _default_clients:
        from .client import AsyncClient, Client

        _default_clients[kind] = Client() if kind == "sync" else AsyncClient()
    return _default_clients[kind]


def generate(prompt: str, *, provider: str | None = None, **options: Any) -> ImageResult:
    """Generate with a shared default client (config from the usual places); see ``Client.generate``."""
    return _default("sync").generate(prompt, provider=provider, **options)  # type: ignore[no-any-return]


async def agenerate(prompt: str, *, provider: str | None = None, **options: Any) -> ImageResult:
    """The async twin of :func:`generate`."""
    return await _default("async").generate(prompt, provider=provider, **options)  # type: ignore[no-any-return]


def capabilities(provider: str) -> ModelCapabilities:
    """What a model can do, as data: ``imgsdk.capabilities("openai:dall-e-3")``."""
    return _default("sync").capabilities(provider)  # type: ignore[no-any-return]
