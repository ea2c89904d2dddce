"""``local:placeholder`` — the offline default: no key, no network, a real image in milliseconds.

It exists so that the node, the CLI and every test work on a fresh machine. The image is deterministic for
the same prompt, size, quality, style and seed, follows the request (palette from colour words, vivid vs
natural saturation, hd detail, the prompt printed on it) and is plainly marked as a placeholder.

It goes through the same policy engine, engine and result code as a real provider: the "server" is
:meth:`LocalAdapter.serve`, which the core calls in-process instead of opening a connection.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from .local_render import render_placeholder

BASE_URL = "local://placeholder"

PLACEHOLDER = ModelCapabilities(
    model="placeholder", family="local",
    size=SizeSpec(mode="free", sizes=("1024x1024", "1024x1792", "1792x1024"), min_side=64, max_side=4096,
                  default="1024x1024"),
    qualities=("standard", "hd"), quality_default="standard",
    # GPT-image vocabulary, so a fallback from such a profile keeps its intent.
    quality_aliases={"high": "hd", "medium": "standard", "low": "standard"},
    styles=("vivid", "natural"), style_default="vivid",
    max_images=10, seed=True, seed_range=(0, 2**32 - 1),
    output_formats=("png", "jpeg", "webp"), output_format_default="png",
    prompt_max_chars=32000, returns="bytes", protocol="sync",
    prices=(Price(usd=0.0),), price_source="offline renderer: free", price_date="2026-11-29",
    lifecycle=Lifecycle(status="active", source="imgsdk"),
)


class LocalAdapter(Adapter):
    """The offline placeholder renderer, as an adapter."""

    name = "local"
    label = "Offline placeholder renderer"
    default_base_url = BASE_URL
    key_required = False
    default_model = "placeholder"
    secret_headers = ()

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return {"placeholder": PLACEHOLDER}

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body = {"prompt": call.prompt, "n": call.n, "width": call.width or 1024, "height": call.height or 1024,
                "quality": call.quality or "standard", "style": call.style or "vivid", "seed": call.seed,
                "output_format": call.output_format or "png", "model": call.model}
        return WireRequest("POST", f"{endpoint.base_url}/v1/images", json=body)

    def serve(self, request: WireRequest) -> WireResponse | None:
        if not request.url.startswith(BASE_URL):
            return None
        body = request.json
        base_seed = body["seed"] if body["seed"] is not None else 0
        data = []
        for index in range(body["n"]):
            seed = base_seed + index
            label = (f"local:{body['model']} · {body['width']}x{body['height']} · {body['quality']} · "
                     f"{body['style']} · seed {seed}")
            image = render_placeholder(body["prompt"], body["width"], body["height"], style=body["style"],
                                       quality=body["quality"], seed=seed, output_format=body["output_format"],
                                       label=label)
            data.append({"b64_json": base64.b64encode(image).decode("ascii"), "seed": seed})
        content = json.dumps({"data": data}).encode()
        return WireResponse(200, {"content-type": "application/json", "x-request-id": "local"}, content,
                            request.url)

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        images = [GeneratedImage.from_bytes(base64.b64decode(item["b64_json"]), call.prompt, seed=item["seed"],
                                            metadata={"placeholder": True})
                  for item in response.json()["data"]]
        return Images(images, request_id=response.header("x-request-id"))
