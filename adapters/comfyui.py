"""ComfyUI: queue a workflow with ``POST /prompt``, poll ``GET /history/{id}``, images via ``/view`` (§11).

ComfyUI runs whatever graph it is given, so this adapter is a *workflow template plus a mapping*: the graph
(API format, node id → ``{"class_type", "inputs"}``) comes from the profile key ``workflow`` (default: the
text-to-image graph in :mod:`.comfyui_workflow`), and ``workflow_mapping`` says which node input receives each
request field (``{"prompt": ["6", "text"], "seed": ["3", "seed"], ...}``). The declaration follows the
mapping: no ``negative_prompt`` entry, no negative prompt; no ``n`` entry, one image per call; no
``width``/``height``, no size. Quality and style are never mapped (the policy drops them with a warning).

Models. ``comfyui:default`` keeps the workflow's checkpoint (or the profile's ``checkpoint``); any other model
id is a checkpoint file name written to the ``checkpoint`` input (``comfyui:sd_xl_base_1.0.safetensors``).

Seeds. A request seed is written to the ``seed`` input(s). Without one the workflow's own seed stays (the
same request gives the same image; the default graph's seed is 8566257). Fan-out calls after the first add
their index to it, because ComfyUI answers an identical graph from its cache with the same files.

Provider options (``provider_options={"comfyui": {...}}``): any ``workflow_mapping`` key (the default mapping
also has ``steps``, ``cfg``, ``sampler_name``, ``scheduler``, ``denoise``, ``filename_prefix``), ``inputs``
(``{node_id: {input: value}}``, written last, for anything unmapped) and the ``/prompt`` body fields
``extra_data`` and ``front``. Unknown keys are refused, so a typo is not silently ignored.

Results are files on the server: each image is a ``{base}/view?filename=…&subfolder=…&type=output`` URL that
does not expire; the core fetches the bytes on first use. An ``api_key`` is sent as a bearer token, for a
reverse proxy in front of ComfyUI (ComfyUI itself has no auth) [§11].
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from imgsdk.adapter import Adapter, Endpoint, Images, JobHandle, Pending, WireRequest, WireResponse
from imgsdk.adapter import error_for_status as typed_error
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import ConfigError, ProviderError, ServiceUnavailableError

# The class error_for_status itself uses for 400/422 (a ProviderError that is an InvalidRequestError).
# ComfyUI reports a partly invalid workflow with a 200, which error_for_status cannot type. See the report.
from imgsdk.errors import RequestRejectedError as RequestRejected
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from . import comfyui_workflow as workflows
from .comfyui_workflow import Targets, load_workflow, workflow_mapping

__all__ = ["ComfyUIAdapter", "declare"]

DEFAULT_MODEL = "default"
#: Images per call (EmptyLatentImage allows batch_size 4096; 8 keeps a batch within ordinary VRAM).
MAX_BATCH = 8
_BODY_OPTIONS = ("inputs", "extra_data", "front")
_DEBUG_KEYS = ("traceback", "current_inputs", "current_outputs")


def declare(model: str, mapping: Mapping[str, Targets], graph: Mapping[str, Any] | None = None) -> ModelCapabilities:
    """The capabilities of a workflow: what its mapping can receive; the default size is the graph's own."""
    sized = "width" in mapping and "height" in mapping
    default = "512x512"
    if sized and graph is not None:
        (width_node, width_input), (height_node, height_input) = mapping["width"][0], mapping["height"][0]
        width = (graph.get(width_node) or {}).get("inputs", {}).get(width_input)
        height = (graph.get(height_node) or {}).get("inputs", {}).get(height_input)
        if isinstance(width, int) and isinstance(height, int) and not isinstance(width, bool):
            default = f"{width}x{height}"
    return ModelCapabilities(
        model=model, family="comfyui-workflow",
        # EmptyLatentImage: width/height 16..16384 (MAX_RESOLUTION) in steps of 8 [COMFY nodes.py; §11 only
        # says "workflow-defined"]. A mapping without width/height takes no size.
        size=(SizeSpec(mode="free", sizes=("512x512", "1024x1024"), min_side=16, max_side=16384, multiple=8,
                       default=default) if sized else SizeSpec(mode="none")),
        qualities=(), styles=(),
        max_images=MAX_BATCH if "n" in mapping else 1,
        seed="seed" in mapping, seed_range=(0, 2**64 - 1),  # KSampler: 0..0xffffffffffffffff [COMFY nodes.py]
        negative_prompt="negative_prompt" in mapping,
        # SaveImage writes PNG: the format belongs to the workflow, not to the request.
        output_formats=(), output_format_default=None,
        returns="file", protocol="poll",
        prices=(Price(usd=0.0),), price_source="self-hosted: no per-image charge (providers.md §11)",
        price_date="2026-11-29",
        lifecycle=Lifecycle(status="active", note="the workflow's checkpoint, or the checkpoint file named by "
                            "the model id", source="providers.md §11"),
        extra={"path": "/prompt"},
    )


class ComfyUIAdapter(Adapter):
    """ComfyUI's HTTP API: a workflow template plus a field → node-input mapping."""

    name = "comfyui"
    label = "ComfyUI"
    default_base_url = "http://127.0.0.1:8188"
    key_env = ("COMFYUI_TOKEN",)
    key_required = False
    default_model = DEFAULT_MODEL
    profile_keys: ClassVar[Mapping[str, str]] = {
        "workflow": "the workflow in API format (ComfyUI: Save (API Format)): a file path, a JSON string "
                    "or a dict; default: the built-in text-to-image graph",
        "workflow_mapping": "request field → [node_id, input_name] (or a list of them) for that workflow, "
                            "e.g. {prompt = ['6', 'text'], seed = ['3', 'seed']}",
        "checkpoint": "checkpoint file for the 'checkpoint' input when the model is 'default'",
    }
    secret_headers = ("authorization",)
    # /prompt queues a job: after a 504 from a proxy it may be queued already; re-send only what never arrived.
    post_retry_statuses = frozenset({502, 503})

    def __init__(self) -> None:
        #: One client id per process, as ComfyUI's scripts do (it routes websocket events; polling ignores it).
        self.client_id = str(uuid.uuid4())

    # -- declarations -------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return {DEFAULT_MODEL: declare(DEFAULT_MODEL, workflow_mapping({}), load_workflow(None))}

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        """Any model id (a checkpoint name) is served by the profile's workflow."""
        return declare(model, workflow_mapping(settings), load_workflow(settings.get("workflow")))

    # -- translation ----------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        settings = endpoint.settings
        graph = load_workflow(settings.get("workflow"))
        mapping = workflow_mapping(settings)
        values: dict[str, Any] = {"prompt": call.prompt}
        for field, value in (("negative_prompt", call.negative_prompt), ("width", call.width),
                             ("height", call.height), ("seed", call.seed)):
            if value is not None:
                values[field] = value
        if "n" in mapping:
            values["n"] = call.n
        if call.seed is None and call.index and "seed" in mapping:
            node, key = mapping["seed"][0]
            if isinstance(base := graph.get(node, {}).get("inputs", {}).get(key), int):
                values["seed"] = (base + call.index) % 2**64  # not call 0's cached image again
        checkpoint = call.model if call.model != DEFAULT_MODEL else settings.get("checkpoint")
        if checkpoint:
            values["checkpoint"] = checkpoint
        options = dict(call.options)
        body_options = {key: options.pop(key) for key in _BODY_OPTIONS if key in options}
        if unknown := sorted(set(options) - set(mapping)):
            allowed = sorted(set(mapping) - set(workflows.COMMON_FIELDS)) + list(_BODY_OPTIONS)
            raise ConfigError(f"unknown ComfyUI option(s) {', '.join(unknown)}: use a workflow_mapping key "
                              f"({', '.join(allowed)}), or inputs={{node_id: {{input: value}}}}",
                              key="provider_options.comfyui")
        values.update(options)  # the user's explicit options win
        for field, value in values.items():
            if field not in mapping:
                hint = "use the model 'default'" if field == "checkpoint" else "leave it out"
                raise ConfigError(f"the request sets {field!r} ({value!r}), but workflow_mapping has no "
                                  f"{field!r} entry: add one, or {hint}", key="workflow_mapping")
            for node, key in mapping[field]:
                _inputs(graph, node, key, f"workflow_mapping.{field}")[key] = value
        for node, inputs in (body_options.get("inputs") or {}).items():
            if not isinstance(inputs, Mapping):
                raise ConfigError(f"inputs.{node} must map input names to values", key="provider_options")
            for key, value in inputs.items():
                _inputs(graph, str(node), key, "provider_options.comfyui.inputs", create=True)[key] = value
        body: dict[str, Any] = {"prompt": graph, "client_id": self.client_id}
        body.update({key: body_options[key] for key in ("extra_data", "front") if key in body_options})
        return WireRequest("POST", f"{_root(endpoint.base_url)}/prompt", headers=_auth(endpoint), json=body)

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Pending:
        """``{prompt_id, number, node_errors}`` → a job to poll; non-empty ``node_errors`` → refused."""
        body = response.json()
        prompt_id = body.get("prompt_id") if isinstance(body, Mapping) else None
        if not isinstance(body, Mapping) or not isinstance(prompt_id, str) or not prompt_id:
            raise self._unexpected(response, call.model, "a prompt_id")
        if body.get("node_errors"):
            # Some outputs validated and were queued anyway; the others were refused [COMFY server.py].
            raise RequestRejected(
                f"{self.label} refused part of the workflow: {_node_errors(body['node_errors'])}. Its valid "
                f"outputs were queued as prompt {prompt_id}; fix the workflow or its mapping",
                adapter=self.name, model=call.model, status=response.status, request_id=prompt_id,
                code="node_errors", body=dict(body))
        data = {"base_url": _root_of(response.url, "/prompt"), "number": body.get("number"),
                "prompt": call.prompt}
        return Pending(JobHandle(self.name, call.model, prompt_id, data), status="queued")

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        url = f"{self._job_root(handle, endpoint)}/history/{quote(handle.job_id, safe='')}"
        return WireRequest("GET", url, headers=_auth(endpoint))

    def parse_poll(self, response: WireResponse, handle: JobHandle,
                   call: PreparedRequest | None) -> Images | Pending:
        """``{}`` → pending; ``status_str == "error"`` → the node's exception; else the saved images."""
        body = response.json()
        if not isinstance(body, Mapping):
            raise self._unexpected(response, handle.model, "a JSON history object")
        entry = body.get(handle.job_id)
        if not isinstance(entry, Mapping) or not entry:
            return Pending(handle, status="queued or running")  # {} until the prompt has finished [§11]
        raw_status = entry.get("status")
        status: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        if status.get("status_str") == "error":
            raise self._execution_error(response, handle, status)
        if status.get("completed") is False:
            return Pending(handle, status="running")
        root = handle.data.get("base_url") or _root_of(response.url, f"/history/{handle.job_id}")
        prompt = call.prompt if call is not None else str(handle.data.get("prompt") or "")
        graph = workflows.submitted_graph(entry.get("prompt"))
        seed, size = workflows.seed_of(graph), workflows.size_of(graph)
        images = []
        for node, item in _output_images(entry.get("outputs")):
            query = {"filename": str(item["filename"]), "subfolder": str(item.get("subfolder") or ""),
                     "type": str(item.get("type") or "output")}
            images.append(GeneratedImage(
                url=f"{root}/view?{urlencode(query, quote_via=quote)}", revised_prompt=prompt,
                reported_size=size, seed=seed, metadata={"node_id": node, "prompt_id": handle.job_id, **query}))
        if not images:
            outputs = ", ".join(sorted(entry.get("outputs") or {})) or "none"
            raise ProviderError(f"the {self.label} workflow finished without images (output nodes: {outputs}): "
                                "give it a SaveImage node", adapter=self.name, model=handle.model,
                                status=response.status, request_id=handle.job_id, code="no_images",
                                body={"status": dict(status)})
        return Images(images, request_id=handle.job_id)

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> list[WireRequest]:
        """Dequeue the job (``POST /queue {"delete": [id]}``, when still waiting), then interrupt it
        (``POST /interrupt {"prompt_id"}``, when running) [COMFY server.py]; the core sends both in order.

        Servers older than the targeted interrupt (2025) ignore the body and interrupt whatever runs.
        """
        return self.cancel_requests(handle, endpoint)

    def auth_headers(self, endpoint: Endpoint) -> dict[str, str]:
        """The proxy token, for ``/view`` downloads under this server's base URL."""
        return _auth(endpoint)

    def cancel_requests(self, handle: JobHandle, endpoint: Endpoint) -> list[WireRequest]:
        """Every request that cancels a job wherever it is: dequeue it, then interrupt it if it runs."""
        root, headers = self._job_root(handle, endpoint), _auth(endpoint)
        return [WireRequest("POST", f"{root}/queue", headers=headers, json={"delete": [handle.job_id]}),
                WireRequest("POST", f"{root}/interrupt", headers=dict(headers), json={"prompt_id": handle.job_id})]

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        """400 ``{"error": {type, message, details}, "node_errors": {...}}`` → InvalidRequestError naming
        each failing node, its class_type and message; a 404 on /prompt means base_url is not ComfyUI."""
        model = call.model if call else None
        body = response.json()
        kept = body if body is not None else response.text[:2000]
        if response.status == 400 and isinstance(body, Mapping) and {"error", "node_errors"} & set(body):
            error = body.get("error")
            if isinstance(error, Mapping):
                head, code = str(error.get("message") or error.get("type")), str(error.get("type"))
                head += f" ({error['details']})" if error.get("details") else ""
            else:
                head = code = str(error)  # {"error": "no prompt", "node_errors": []}
            nodes = _node_errors(body.get("node_errors"))
            message = f"{self.label} refused the workflow: {head}" + (f": {nodes}" if nodes else "")
            return typed_error(response, self.name, model, message=message, code=code, body=kept)
        text = response.text.strip()[:300] or "no details"
        if response.status == 404:
            return RequestRejected(f"{self.label} answered 404 ({text}): check base_url (ComfyUI's address, "
                                   "e.g. http://127.0.0.1:8188)", adapter=self.name, model=model, status=404,
                                   request_id=self.request_id(response), code="not_found", body=kept)
        return typed_error(response, self.name, model, body=kept,
                           message=f"{self.label} answered HTTP {response.status}: {text}")

    # -- helpers --------------------------------------------------------------------------------------
    def _job_root(self, handle: JobHandle, endpoint: Endpoint) -> str:
        """The server the job lives on (kept in the handle), else the profile's."""
        return str(handle.data.get("base_url") or _root(endpoint.base_url))

    def _execution_error(self, response: WireResponse, handle: JobHandle,
                         status: Mapping[str, Any]) -> ProviderError:
        """The node's exception from ``status.messages`` (``["execution_error", {node_id, node_type,
        exception_type, exception_message, ...}]``) [§11]; out of memory is a ServiceUnavailableError."""
        events = {event[0]: event[1] for event in status.get("messages") or ()
                  if isinstance(event, list | tuple) and len(event) == 2 and isinstance(event[1], Mapping)}
        context: dict[str, Any] = dict(adapter=self.name, model=handle.model, status=response.status,
                                       request_id=handle.job_id)
        if (data := events.get("execution_error")) is not None:
            kind = str(data.get("exception_type") or "")
            text = str(data.get("exception_message") or "").strip()
            where = f"node {data.get('node_id')} ({data.get('node_type')})"
            kept = {key: value for key, value in data.items() if key not in _DEBUG_KEYS}
            error_class = ServiceUnavailableError if "OutOfMemory" in kind else ProviderError
            return error_class(f"{self.label} failed on {where}: {kind + ': ' if kind else ''}{text}",
                               code=kind or "execution_error", body=kept, **context)
        if (data := events.get("execution_interrupted")) is not None:
            return ProviderError(f"{self.label} job {handle.job_id} was interrupted (POST /interrupt) on node "
                                 f"{data.get('node_id')} ({data.get('node_type')})",
                                 code="execution_interrupted", body=dict(data), **context)
        return ProviderError(f"{self.label} job {handle.job_id} failed without an error message",
                             code="execution_error", body={"status": dict(status)}, **context)

    def _unexpected(self, response: WireResponse, model: str | None, expected: str) -> ProviderError:
        return ProviderError(f"{self.label} answered HTTP {response.status} without {expected}: is base_url "
                             "ComfyUI?", adapter=self.name, model=model, status=response.status,
                             request_id=self.request_id(response), code="unexpected_body",
                             body=response.text[:500])


def _inputs(graph: dict[str, Any], node: str, key: str, where: str, create: bool = False) -> dict[str, Any]:
    """The inputs of ``node``; an unknown node, or (unless ``create``) an unknown input, is a config error."""
    if node not in graph:
        raise ConfigError(f"node {node!r} is not in the workflow (nodes: {', '.join(sorted(graph))})",
                          key=where)
    inputs: dict[str, Any] = graph[node]["inputs"]
    if key not in inputs and not create:
        raise ConfigError(f"node {node!r} ({graph[node]['class_type']}) has no input {key!r} (inputs: "
                          f"{', '.join(sorted(inputs))})", key=where)
    return inputs


def _auth(endpoint: Endpoint) -> dict[str, str]:
    return {"authorization": f"Bearer {endpoint.api_key.get()}"} if endpoint.api_key else {}


def _root(url: str) -> str:
    return url.rstrip("/")


def _root_of(url: str, suffix: str) -> str:
    """The server root from a request URL (``…/prompt``, ``…/history/{id}``), also under an /api prefix."""
    url = url.split("?", 1)[0].rstrip("/")
    return url[: -len(suffix)] if url.endswith(suffix) else url


def _node_errors(node_errors: Any) -> str:
    """``node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'x' not in [...]; ...``."""
    parts = []
    for node, entry in (node_errors.items() if isinstance(node_errors, Mapping) else ()):
        for error in (entry.get("errors") or ()) if isinstance(entry, Mapping) else ():
            if isinstance(error, Mapping):
                details = str(error.get("details") or "")[:300]
                parts.append(f"node {node} ({entry.get('class_type')}): {error.get('message')}"
                             + (f": {details}" if details else ""))
    return "; ".join(parts)


def _output_images(outputs: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """Images of every output node; only the saved ones (``type == "output"``) when there are any."""
    found = [(str(node), item) for node, output in (outputs or {}).items() if isinstance(output, Mapping)
             for item in output.get("images") or () if isinstance(item, Mapping) and item.get("filename")]
    saved = [(node, item) for node, item in found if item.get("type") == "output"]
    return saved or found
