"""Any server that speaks the OpenAI Images API: LocalAI, gateways, proxies, vLLM-style servers.

``POST {base_url}/images/generations`` (``base_url`` is required, e.g. ``http://localhost:8080/v1``), with
``Authorization: Bearer <key>`` when a key is configured (optional: many local servers take none).

There is no catalogue: what a server's models accept is unknowable here. A model is declared in config
(``[models."openai-compatible:<model>"]``, with ``family = "dalle"`` or ``"gpt-image"`` to get exactly that
wire body), or it is served with :meth:`OpenAICompatibleAdapter.permissive_capabilities`, which passes the
node's options through unchanged (the core warns once that they were not checked).

Wire body (:mod:`._openai_wire`): a declared ``dalle``/``gpt-image`` model gets OpenAI's body for that family;
any other model gets ``model, prompt, n`` plus every option the request set, as given (``size``,
``quality``, ``style``, ``output_format``, ``background``, ``user``). No ``response_format`` is sent then
(servers differ on its default and GPT-image-style servers reject it); both ``data[].url`` and
``data[].b64_json`` answers are read. Provider options (``provider_options={"openai-compatible": {...}}``)
are merged into the body last, e.g. ``{"response_format": "b64_json"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import ConfigError, ProviderError
from imgsdk.request import PreparedRequest

from . import _openai_wire as wire

__all__ = ["OpenAICompatibleAdapter"]


class OpenAICompatibleAdapter(Adapter):
    """A user-run or third-party server with OpenAI's ``/images/generations`` endpoint."""

    name: ClassVar[str] = "openai-compatible"
    label: ClassVar[str] = "OpenAI-compatible server"
    default_base_url: ClassVar[str | None] = None
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_COMPATIBLE_API_KEY",)
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str | None] = None
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization", "api-key", "x-api-key")

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return {}

    def permissive_capabilities(self, model: str) -> ModelCapabilities:
        """An undeclared model passes the node's options through unchanged: see
        :func:`._openai_wire.permissive_capabilities` (any WxH size, every OpenAI quality, vivid/natural,
        n ≤ 10; seed/negative_prompt dropped with a warning; url and b64_json answers both read)."""
        return wire.permissive_capabilities(model)

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        base = endpoint.base_url.rstrip("/")
        if not base:
            raise ConfigError("the openai-compatible adapter needs base_url, the server's OpenAI API root "
                              "(e.g. http://localhost:8080/v1)", key="base_url")
        headers = {"Authorization": f"Bearer {endpoint.api_key.get()}"} if endpoint.api_key else {}
        return WireRequest(method="POST", url=f"{base}/images/generations", headers=headers,
                           json=wire.build_body(call, model=call.model))

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        return wire.parse_images(response, call, adapter=self.name, request_id=self.request_id(response),
                                 on_error=lambda failed: self.parse_error(failed, call))

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        return wire.openai_error(response, call.model if call else None, adapter=self.name, label=self.label,
                                 request_id=self.request_id(response))

    def is_retryable(self, response: WireResponse) -> bool:
        return wire.should_retry(response, quota=wire.is_quota(wire.read_error(response)))
