"""AUTOMATIC1111 / Forge web UI: ``POST {base}/sdapi/v1/txt2img`` (providers.md §10; A1111 api.py, models.py).

A self-hosted Stable Diffusion server started with ``--api``. One blocking JSON call answers with base64
images and an ``info`` field that is a JSON *string* (parsed again here for the per-image seeds and prompts).

Models. ``automatic1111:default`` means "whatever checkpoint the server has loaded" (nothing is sent). Any
other model id is a checkpoint name (a title such as ``"sd_xl_base_1.0.safetensors [31e35c80fc]"``, a file
name or a model name) and is sent as ``override_settings: {"sd_model_checkpoint": <id>}``. Every id maps to
the same declaration: the UI's size grid, a seed, a negative prompt; no quality and no DALL·E style. Upstream
A1111 silently falls back to the loaded checkpoint when the override names no known checkpoint [A1111
processing.py ``process_images``: "if ... the override checkpoint can't be found, remove override entry"];
the ``info`` string says which model ran (``sd_model_name``), so that fallback comes back as a warning. Some
forks answer 404 ``"Model not found"`` instead, which becomes a ModelNotFoundError.

Profile settings: ``username``/``password`` for ``--api-auth`` (HTTP Basic; the password may also be given as
``api_key``), ``sampler``, ``steps`` and ``cfg_scale`` defaults. Without a username, an ``api_key`` is sent as
a bearer token (for an authenticating reverse proxy in front of the server).

Provider options (``provider_options={"automatic1111": {...}}``) are merged into the body last, so any
processing field A1111 accepts can be set: ``styles`` (saved A1111 style *names*), ``scheduler``,
``enable_hr``, ``hr_scale``, ``denoising_strength``, ``restore_faces``, ``alwayson_scripts``...
``override_settings`` from the options is merged key by key with the checkpoint override.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from imgsdk.adapter import Adapter, Endpoint, Images, Secret, WireRequest, WireResponse, error_for_status
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import ConfigError, ProviderError

# The class error_for_status itself uses for 400/422 (a ProviderError that is an InvalidRequestError). We need
# it for a 404 that is not about the model (an unknown sampler, a server without --api), which
# error_for_status would type as ModelNotFoundError. A public way to ask for it is requested in the report.
from imgsdk.errors import RequestRejectedError as RequestRejected
from imgsdk.request import PreparedRequest, RequestWarning
from imgsdk.result import GeneratedImage

__all__ = ["DEFAULT", "Automatic1111Adapter"]

DEFAULT_MODEL = "default"

DEFAULT = ModelCapabilities(
    model=DEFAULT_MODEL, family="sd-webui",
    # The UI's width/height sliders run 64..2048 in steps of 8; the default is 512x512 [A1111 processing
    # dataclass]. API-side validation is UNCONFIRMED (the pydantic model sets no bounds): we keep to the UI's
    # grid, which every server accepts, and let the policy snap other sizes onto it with a warning.
    size=SizeSpec(mode="free", sizes=("512x512", "768x768", "1024x1024"), min_side=64, max_side=2048,
                  multiple=8, default="512x512"),
    # No quality knob; ``styles`` in A1111 are saved prompt-style *names*, not DALL·E's vivid/natural, so the
    # node's style is dropped with a warning (users pass A1111 style names as a provider option).
    qualities=(), styles=(),
    # images = batch_size x n_iter [§10]; we send batch_size=n, n_iter=1. 8 keeps one batch within the VRAM
    # of ordinary GPUs; more images are fanned out by the core (seed + i per call).
    max_images=8,
    # seed -1 means random [§10]; the server draws random seeds below 2**32 - 1 (``get_fixed_seed``). Larger
    # user seeds are UNCONFIRMED across samplers/RNG sources and Forge, so the declared range is 32-bit.
    seed=True, seed_range=(0, 2**32 - 1),
    negative_prompt=True,
    # The encoding is the server option ``samples_format`` (png by default, also jpg/webp) [A1111
    # ``encode_pil_to_base64``]; it cannot be chosen per request (an override_settings value is restored
    # before the images are encoded), so no output_format is declared: a requested one is dropped with a
    # warning, and the media type is read from the bytes.
    output_formats=(), output_format_default=None,
    returns="base64", protocol="sync",
    prices=(Price(usd=0.0),), price_source="self-hosted: no per-image charge (providers.md §10)",
    price_date="2026-11-29",
    lifecycle=Lifecycle(status="active", note="the checkpoint loaded on the server; any checkpoint name is "
                        "accepted as a model id", source="providers.md §10"),
    extra={"path": "/sdapi/v1/txt2img"},
)

_MIDDLEWARE_KEYS = frozenset({"error", "detail", "body", "errors"})
_HASH_SUFFIX = re.compile(r"\s*\[[0-9a-fA-F]{8,64}\]\s*$")
_CHECKPOINT_EXTENSIONS = (".safetensors", ".ckpt", ".gguf", ".pt", ".pth", ".bin")


class Automatic1111Adapter(Adapter):
    """AUTOMATIC1111 and Forge web UIs (``--api``)."""

    name = "automatic1111"
    label = "AUTOMATIC1111"
    default_base_url = "http://127.0.0.1:7860"
    key_env = ()
    key_required = False
    default_model = DEFAULT_MODEL
    profile_keys: ClassVar[Mapping[str, str]] = {
        "username": "user name for HTTP Basic auth, when the server runs with --api-auth user:password",
        "password": "password for --api-auth (or give it as api_key)",
        "sampler": "default sampler_name, e.g. 'DPM++ 2M' or 'Euler a' (the server's default otherwise)",
        "steps": "default sampling steps (the server's default is 20 in the UI, 50 in the API)",
        "cfg_scale": "default CFG scale (7.0 on the server)",
    }
    secret_headers = ("authorization",)
    secret_settings: ClassVar[tuple[str, ...]] = ("password",)
    # txt2img blocks until the images exist: a 504 from a proxy may mean the GPU is still working on it, and
    # re-sending would queue the whole batch again. Only "never reached the server" answers are re-sent.
    post_retry_statuses = frozenset({502, 503})

    # -- declarations -------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return {DEFAULT_MODEL: DEFAULT}

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        """Any checkpoint name is served by the same Stable Diffusion declaration."""
        return DEFAULT if model == DEFAULT_MODEL else replace(DEFAULT, model=model)

    # -- translation ----------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        settings = endpoint.settings
        body: dict[str, Any] = {"prompt": call.prompt}
        if call.negative_prompt is not None:
            body["negative_prompt"] = call.negative_prompt
        if call.width is not None and call.height is not None:
            body["width"], body["height"] = call.width, call.height
        body["seed"] = call.seed if call.seed is not None else -1  # -1: the server picks a random seed
        body["batch_size"], body["n_iter"] = call.n, 1
        for setting, field in (("sampler", "sampler_name"), ("steps", "steps"), ("cfg_scale", "cfg_scale")):
            if settings.get(setting) is not None:
                body[field] = settings[setting]
        overrides: dict[str, Any] = {}
        if call.model != DEFAULT_MODEL:
            overrides["sd_model_checkpoint"] = call.model
        options = dict(call.options)
        extra_overrides = options.pop("override_settings", None) or {}
        overrides.update(extra_overrides)
        if overrides:
            body["override_settings"] = overrides
        body.update(options)
        return WireRequest("POST", f"{endpoint.base_url.rstrip('/')}/sdapi/v1/txt2img",
                           headers=_auth_headers(endpoint), json=body)

    def credentials(self, endpoint: Endpoint) -> list[str]:
        """The Basic token (base64 of user:password) as sent: redacted like the password itself."""
        header = _auth_headers(endpoint).get("authorization", "")
        return [header.split(" ", 1)[1]] if header.startswith("Basic ") else []

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        body = response.json()
        if not isinstance(body, Mapping) or not isinstance(body.get("images"), list):
            raise self._unexpected(response, call, "a JSON object with an 'images' list")
        info = _parse_info(body.get("info"))
        first = info.get("index_of_first_image")
        # With save_images=true and a batch, A1111 puts a grid first (index_of_first_image=1); scripts such as
        # ControlNet append their own maps after the generated images. Neither was asked for.
        start = first if isinstance(first, int) and first >= 0 else 0
        encoded = [item for item in body["images"][start:start + call.n] if isinstance(item, str) and item]
        if not encoded:
            raise ProviderError(
                f"{self.label} answered without images (was send_images set to false?)",
                adapter=self.name, model=call.model, status=response.status,
                request_id=self.request_id(response), code="no_images", body=_summary(body))
        seeds, prompts, infotexts = (_list(info, key) for key in ("all_seeds", "all_prompts", "infotexts"))
        images = []
        for index, item in enumerate(encoded):
            data = self._decode(item, response, call)
            seed = _item(seeds, index)
            if not isinstance(seed, int) and isinstance(info.get("seed"), int):
                seed = info["seed"] + index  # A1111 numbers a batch's seeds seed, seed+1, ...
            prompt = _item(prompts, index)
            metadata: dict[str, Any] = {key: info[key] for key in ("sd_model_name", "sd_model_hash")
                                        if isinstance(info.get(key), str)}
            if isinstance(text := _item(infotexts, start + index), str):  # infotexts include the grid's
                metadata["infotext"] = text
            images.append(GeneratedImage.from_bytes(
                data, prompt if isinstance(prompt, str) and prompt.strip() else call.prompt,
                media_type="image/png", seed=seed if isinstance(seed, int) else None, metadata=metadata))
        return Images(images, request_id=self.request_id(response),
                      warnings=self._checkpoint_warnings(call, info))

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        """422 validation → InvalidRequestError naming the fields; 404 sampler/model/route; 5xx → unavailable.

        Error bodies [§10]: FastAPI's ``{"detail": [{loc, msg, type}]}`` for validation, ``{"detail": "Not
        Found"}`` for an unknown route (the server was started without ``--api``), and the web UI's
        middleware shape ``{"error": <exception class>, "detail", "body", "errors": str(exception)}`` for
        everything else.
        """
        model = call.model if call else None
        body = response.json()
        status = response.status
        detail = body.get("detail") if isinstance(body, Mapping) else None
        kept = body if body is not None else response.text[:2000]
        code = str(body["error"]) if isinstance(body, Mapping) and set(body) >= _MIDDLEWARE_KEYS else None
        context: dict[str, Any] = dict(adapter=self.name, model=model, status=status, body=kept,
                                       request_id=self.request_id(response))
        if status == 422 and isinstance(detail, list):
            fields = "; ".join(_field_error(item) for item in detail if isinstance(item, Mapping))
            return RequestRejected(f"{self.label} rejected the request (HTTP 422): {fields or detail}",
                                   code="validation_error", **context)
        text = _message(body, response)
        if status == 404 and "sampler" in text.lower():
            error = RequestRejected(f"{self.label}: {text}: this server has no such sampler (GET "
                                    "/sdapi/v1/samplers lists them; set 'sampler' in the profile)",
                                    code=code or "sampler_not_found", **context)
            error.option = "sampler_name"
            return error
        if status == 404 and "model" in text.lower() and model is not None:
            message = (f"{self.label}: {text}: checkpoint {model!r} is not on the server (GET "
                       "/sdapi/v1/sd-models lists them), or use the model 'default' for the loaded one")
        elif status == 404:
            return RequestRejected(f"{self.label} answered 404 {text!r}: start the web UI with --api, and "
                                   "check base_url (the web UI's address, e.g. http://127.0.0.1:7860)",
                                   code=code or "not_found", **context)
        elif status == 401:
            message = (f"{self.label} refused the credentials ({text}): set username and password in the "
                       "profile to a user:password pair of the server's --api-auth")
        elif status >= 500:
            message = f"{self.label} failed while generating (HTTP {status}): {text}"
        else:
            message = f"{self.label} answered HTTP {status}: {text}"
        return error_for_status(response, self.name, model, message=message, code=code, body=kept)

    def is_retryable(self, response: WireResponse) -> bool:
        """Gateway errors and 408 are worth another try; an exception the web UI reported is not.

        A 500 in the middleware shape (``{"error", "detail", "body", "errors"}``) is an exception raised
        while generating (out of memory, NaNs in the VAE, a bad script argument): the same request fails the
        same way again, and A1111 runs one request at a time behind a lock, so nothing frees the GPU
        meanwhile. There is no rate limiting [§10].
        """
        if response.status in (408, 502, 503, 504):
            return True
        if response.status >= 500:
            body = response.json()
            return not (isinstance(body, Mapping) and set(body) >= _MIDDLEWARE_KEYS)
        return False

    # -- helpers --------------------------------------------------------------------------------------
    def _decode(self, item: str, response: WireResponse, call: PreparedRequest) -> bytes:
        payload = item.split(",", 1)[1] if item.startswith("data:") else item
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError) as error:
            raise self._unexpected(response, call, "base64 images") from error

    def _unexpected(self, response: WireResponse, call: PreparedRequest, expected: str) -> ProviderError:
        return ProviderError(
            f"{self.label} answered HTTP {response.status} without {expected}: is base_url the web UI (with "
            "--api)?", adapter=self.name, model=call.model, status=response.status,
            request_id=self.request_id(response), code="unexpected_body", body=response.text[:500])

    def _checkpoint_warnings(self, call: PreparedRequest, info: Mapping[str, Any]) -> list[RequestWarning]:
        """Warn when the server used another checkpoint than the one asked for (upstream falls back)."""
        used = info.get("sd_model_name")
        if call.model == DEFAULT_MODEL or not isinstance(used, str) or _same_checkpoint(call.model, info):
            return []
        message = (f"checkpoint {call.model!r} is not on the server: it generated with {used!r}, the loaded "
                   f"checkpoint (see GET /sdapi/v1/sd-models for the names) [{self.name}:{call.model}]")
        return [RequestWarning("provider", "model", call.model, used, message)]


def _auth_headers(endpoint: Endpoint) -> dict[str, str]:
    """HTTP Basic from username/password (``--api-auth``), else a bearer key for a proxy, else nothing."""
    settings = endpoint.settings
    username = settings.get("username")
    password = settings.get("password")
    if isinstance(password, Secret):
        password = password.get()
    if username:
        if not password and endpoint.api_key:
            password = endpoint.api_key.get()
        if not password:
            raise ConfigError("username is set but password is not: set password (or api_key) to that "
                              "--api-auth user's password", key="password")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"authorization": f"Basic {token}"}
    if endpoint.api_key:
        return {"authorization": f"Bearer {endpoint.api_key.get()}"}
    return {}


def _parse_info(raw: Any) -> dict[str, Any]:
    """``info`` is a JSON string [§10]; some forks send an object. Anything else gives an empty dict."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _list(info: Mapping[str, Any], key: str) -> list[Any]:
    value = info.get(key)
    return list(value) if isinstance(value, list) else []


def _item(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _field_error(item: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
    return f"{location}: {item.get('msg', item.get('type', 'invalid'))}"


def _message(body: Any, response: WireResponse) -> str:
    """The readable part of an error body: the middleware's ``errors``/``detail``, FastAPI's ``detail``."""
    if isinstance(body, Mapping):
        parts = [str(body[key]) for key in ("error", "detail", "errors") if body.get(key)]
        unique = [part for index, part in enumerate(parts) if part not in parts[:index]]
        if unique:
            return ": ".join(unique)[:1000]
    return response.text.strip()[:500] or "no details"


def _summary(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "images"}


def _same_checkpoint(requested: str, info: Mapping[str, Any]) -> bool:
    """Whether ``requested`` (title, file name, model name or hash) names the checkpoint in ``info``.

    A1111 accepts a checkpoint's title ``"sub/name.safetensors [hash]"``, its file name, its model name
    (``sub_name``) or its hash; ``sd_model_name`` is the model name, ``sd_model_hash`` the short hash.
    """
    name = _HASH_SUFFIX.sub("", requested).strip()
    lowered = name.lower()
    for extension in _CHECKPOINT_EXTENSIONS:
        if lowered.endswith(extension):
            name = name[: -len(extension)]
            break
    name = name.replace("/", "_").replace("\\", "_")
    used, digest = info.get("sd_model_name"), info.get("sd_model_hash")
    hashes = {requested.strip().lower()} | set(re.findall(r"\[([0-9a-fA-F]{8,64})\]", requested.lower()))
    return name == used or (isinstance(digest, str) and digest.lower() in hashes)
