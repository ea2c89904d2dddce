"""Azure OpenAI image generation (DALL·E 3 and GPT-image deployments).

``POST {base_url}/openai/deployments/{deployment}/images/generations?api-version=...`` with
``api-key: <key>``, or ``Authorization: Bearer <token>`` when the profile has a ``token_provider`` (Entra ID;
called for every request so tokens refresh). providers.md §2; openai-python ``lib/azure.py`` builds the same
URL and headers.

Profile keys (``Endpoint.settings``):

- ``deployment``: the deployment name; defaults to the model id (the profile's model names the *model*
  behind the deployment, which selects the capability declaration).
- ``api_version``: defaults per family — ``2024-02-01`` for DALL·E 3 (the how-to's DALL·E tab) and
  ``2025-04-01-preview`` for GPT-image (the how-to's GPT-image tab and the preview reference) [AZ-HOWTO].

A deployment of a model not declared here is declared in config with its family, e.g.
``[models."azure:gpt-image-1.5-2025-12-16"]`` with ``family = "gpt-image"`` (the family picks the wire body and
the default api-version).

``base_url`` is the resource root, ``https://{resource}.openai.azure.com``. A base_url that already ends in
``/openai/deployments/{name}`` is used as is; one ending in ``/openai/v1`` uses Azure's v1 route (no
deployment in the path, the deployment goes in the body's ``model``, no api-version unless set).

The body is OpenAI's without ``model`` (the deployment decides it [AZ-HOWTO DALL·E 3 example]). Each image
keeps Azure's ``content_filter_results`` and ``prompt_filter_results`` in ``GeneratedImage.metadata``.
Provider options (``provider_options={"azure": {...}}``) are merged into the body last.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse
from imgsdk.capabilities import Lifecycle, ModelCapabilities, SizeSpec
from imgsdk.errors import ConfigError, ContentPolicyError, ProviderError
from imgsdk.request import PreparedRequest

from . import _openai_wire as wire

__all__ = ["API_VERSIONS", "MODELS", "AzureAdapter"]

API_VERSIONS: Mapping[str, str] = {wire.DALLE_FAMILY: "2024-02-01",
                                   wire.GPT_IMAGE_FAMILY: "2025-04-01-preview"}
_FILTER_KEYS = ("content_filter_results", "prompt_filter_results")
_SOURCE = "[AZ-HOWTO] ms.date 09/02/2025; [AZ-REF] 2025-04-01-preview"


def _gpt_image(model: str, quality_default: str | None, size: SizeSpec = wire.GPT_IMAGE_SIZE,
               note: str | None = None) -> ModelCapabilities:
    """An Azure GPT-image deployment: like OpenAI's but png/jpeg only ("WEBP images aren't supported"
    [AZ-HOWTO]). ``auto`` quality is in the 2025-04-01-preview ``imageQuality`` enum [AZ-REF]."""
    return ModelCapabilities(
        model=model, family=wire.GPT_IMAGE_FAMILY, size=size, qualities=wire.GPT_IMAGE_QUALITIES,
        quality_default=quality_default, quality_aliases=wire.NODE_QUALITY_ALIASES, styles=(), max_images=10,
        output_formats=("png", "jpeg"), output_format_default="png", background=wire.GPT_IMAGE_BACKGROUNDS,
        user_field=True, prompt_max_chars=32000, returns="base64",
        lifecycle=Lifecycle(status="active", note=note, source=_SOURCE))


MODELS: Mapping[str, ModelCapabilities] = {caps.model: caps for caps in (
    # DALL·E 3 on Azure: URL valid 24 hours (vs 60 minutes on OpenAI) [AZ-HOWTO].
    ModelCapabilities(
        model="dall-e-3", family=wire.DALLE_FAMILY, size=wire.DALLE3_SIZE, qualities=("standard", "hd"),
        quality_default="standard", styles=wire.DALLE3_STYLES, style_default="vivid", max_images=1,
        output_formats=("png",), user_field=True, prompt_max_chars=4000, returns="url", url_ttl_seconds=86400,
        lifecycle=Lifecycle(
            status="active",
            note="UNCONFIRMED: third parties (agno docs) report Azure DALL·E deployments retired; "
                 "Microsoft's own retirement date is not in the reference, so deployments are not refused",
            source=_SOURCE)),
    # Defaults: high for gpt-image-1, medium for -mini [AZ-HOWTO comparison table].
    _gpt_image("gpt-image-1", "high"),
    _gpt_image("gpt-image-1-mini", "medium"),
    _gpt_image("gpt-image-1.5", None, note="UNCONFIRMED on Azure: not in the how-to table; declared like "
                                           "gpt-image-1 (default quality unknown)"),
    _gpt_image("gpt-image-2", None, size=wire.GPT_IMAGE_2_SIZE,
               note="UNCONFIRMED on Azure: declared like OpenAI's gpt-image-2 (free sizes), png/jpeg only"),
)}


def _filtered_categories(results: Any) -> list[str]:
    """``["violence (high)", "jailbreak (detected)"]`` for every category an Azure filter result flags."""
    found: list[str] = []
    if not isinstance(results, dict):
        return found
    for category, verdict in results.items():
        if isinstance(verdict, dict) and verdict.get("filtered"):
            detail = verdict.get("severity") or ("detected" if verdict.get("detected") else None)
            found.append(f"{category} ({detail})" if detail else category)
    return found


def _stage(message: str) -> str:
    # [AZ-HOWTO]: a filtered *output* says "Generated image was filtered ..."; every other refusal is the
    # prompt's (the inner_error form carries the prompt's filter results and revised_prompt).
    return "output" if "generated image was filtered" in message.lower() else "input"


class AzureAdapter(Adapter):
    """Azure OpenAI deployments of DALL·E 3 and the GPT-image models."""

    name: ClassVar[str] = "azure"
    label: ClassVar[str] = "Azure OpenAI"
    default_base_url: ClassVar[str | None] = None
    key_env: ClassVar[tuple[str, ...]] = ("AZURE_OPENAI_API_KEY",)
    key_required: ClassVar[bool] = True  # the core accepts a profile token_provider instead of a key
    default_model: ClassVar[str | None] = "gpt-image-1"
    profile_keys: ClassVar[Mapping[str, str]] = {
        "deployment": "the Azure deployment name (default: the model id)",
        "api_version": f"the api-version query parameter (default: {API_VERSIONS[wire.GPT_IMAGE_FAMILY]} for "
                       f"GPT-image, {API_VERSIONS[wire.DALLE_FAMILY]} for DALL·E 3)",
    }
    secret_headers: ClassVar[tuple[str, ...]] = ("api-key", "authorization")

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        settings = endpoint.settings
        deployment = str(settings.get("deployment") or call.model)
        version = settings.get("api_version")
        base = endpoint.base_url.rstrip("/")
        if not base:
            raise ConfigError("the azure adapter needs base_url = \"https://{resource}.openai.azure.com\"",
                              key="base_url")
        body_model: str | None = None
        if base.endswith("/openai/v1"):  # v1 route: plain OpenAI paths, the deployment in the body
            url, body_model = f"{base}/images/generations", deployment
        else:
            if "/deployments/" not in base:
                base = f"{base.removesuffix('/openai')}/openai/deployments/{quote(deployment, safe='')}"
            url = f"{base}/images/generations"
            version = version or API_VERSIONS.get(call.capabilities.family,
                                                  API_VERSIONS[wire.GPT_IMAGE_FAMILY])
        return WireRequest(method="POST", url=url, headers=self._auth(endpoint),
                           params={"api-version": str(version)} if version else {},
                           json=wire.build_body(call, model=body_model))

    def _auth(self, endpoint: Endpoint) -> dict[str, str]:
        """Entra ID token (fresh per request) when a token provider is set, else the ``api-key`` header."""
        if endpoint.token_provider is not None:
            return {"Authorization": f"Bearer {endpoint.token_provider()}"}
        if endpoint.api_key:
            return {"api-key": endpoint.api_key.get()}
        raise ConfigError("no credentials for azure: export AZURE_OPENAI_API_KEY=..., set api_key in the "
                          "profile, or give the profile a token_provider (Entra ID)", key="api_key")

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        request_id = self.request_id(response)
        body = response.json()
        top_filters = body.get("prompt_filter_results") if isinstance(body, dict) else None

        def filtered(item: Mapping[str, Any]) -> ContentPolicyError | None:
            categories = _filtered_categories(item.get("content_filter_results"))
            if not categories:
                return None
            return ContentPolicyError(
                f"{self.label}'s content filter withheld an image: {', '.join(categories)}",
                stage="output", reason=f"content_filter_results: {', '.join(categories)}", adapter=self.name,
                model=call.model, status=response.status, request_id=request_id, code="content_filter")

        images = wire.parse_images(response, call, adapter=self.name, request_id=request_id, keep=_FILTER_KEYS,
                                   filtered=filtered, on_error=lambda failed: self.parse_error(failed, call))
        if top_filters is not None:  # some api-versions report the prompt's filter once, at the top level
            for image in images.images:
                image.metadata.setdefault("prompt_filter_results", top_filters)
        return images

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        """Azure's moderation forms, then OpenAI's envelope (moderation_blocked, quota, status).

        - ``{"error": {"code": "contentFilter", "message": ...}}`` [AZ-HOWTO]: stage from the message.
        - ``code`` ``content_filter`` / ``content_policy_violation`` with ``inner_error`` (the spec's
          spelling) or ``innererror`` (seen in real bodies) whose ``code`` is ``ResponsibleAIPolicyViolation``
          [AZ-REF dalleErrorResponse]: the reason carries its ``content_filter_results``.
        - ``moderation_blocked`` (GPT-image through Azure, relayed, UNCONFIRMED): as on OpenAI.
        """
        model = call.model if call else None
        request_id = self.request_id(response)
        info = wire.read_error(response)
        inner = info.error.get("inner_error") or info.error.get("innererror")
        inner = inner if isinstance(inner, dict) else {}
        context: dict[str, Any] = dict(adapter=self.name, model=model, status=response.status,
                                       request_id=request_id, code=info.code, body=info.body)
        if info.code == "contentFilter":
            return ContentPolicyError(f"{self.label}'s content filter refused the request: {info.message}",
                                      stage=_stage(info.message), reason=info.code, **context)
        if inner.get("code") == "ResponsibleAIPolicyViolation" or info.code == "content_filter":
            results = inner.get("content_filter_results") or inner.get("content_filter_result") or {}
            categories = _filtered_categories(results)
            detail = ", ".join(categories) if categories else json.dumps(results, sort_keys=True)
            code = str(inner.get("code") or info.code)
            reason = f"{code}: {detail}" if results else code
            return ContentPolicyError(f"{self.label}'s content filter refused the request: {info.message}",
                                      stage=_stage(info.message), reason=reason, **context)
        if info.code == "DeploymentNotFound":
            info = wire.ErrorInfo(f"{info.message} (check the profile's deployment name and base_url)",
                                  info.type, info.code, info.param, info.error, info.body)
        return wire.openai_error(response, model, adapter=self.name, label=self.label, request_id=request_id,
                                 info=info)

    def is_retryable(self, response: WireResponse) -> bool:
        # openai-python's AzureOpenAI uses the same retry logic as OpenAI [OAI-PY].
        return wire.should_retry(response, quota=wire.is_quota(wire.read_error(response)))

    def request_id(self, response: WireResponse) -> str | None:
        return response.header("apim-request-id") or response.header("x-request-id")
