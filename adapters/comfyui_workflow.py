"""ComfyUI workflows: the default graph (API format), the field → node-input mapping, loading and inspecting.

The default graph is the text-to-image example of ComfyUI's own ``script_examples`` (providers.md §11,
[COMFY example]): CheckpointLoaderSimple "4" → CLIPTextEncode (positive "6", negative "7") → EmptyLatentImage
"5" → KSampler "3" → VAEDecode "8" → SaveImage "9". Links are ``[node_id, output_index]``. It lives in Python
rather than a JSON file so it ships with the package without package-data rules and is type-checked.

Users replace both with the profile keys ``workflow`` (a dict, a JSON string, or the path of a workflow
exported with ComfyUI's "Save (API Format)") and ``workflow_mapping`` (field → ``[node_id, input_name]``, or a
list of such pairs to write several inputs). Given only ``workflow``, the default mapping is used.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imgsdk.errors import ConfigError

__all__ = ["COMMON_FIELDS", "DEFAULT_CHECKPOINT", "DEFAULT_MAPPING", "DEFAULT_SEED", "Targets",
           "default_workflow", "load_workflow", "seed_of", "size_of", "submitted_graph", "workflow_mapping"]

#: The checkpoint of ComfyUI's example; most installs have another one: set ``checkpoint`` in the profile
#: (or use the checkpoint file name as the model id, ``comfyui:sd_xl_base_1.0.safetensors``).
DEFAULT_CHECKPOINT = "v1-5-pruned-emaonly.safetensors"
#: The example's seed, kept when the request gives none (deterministic: the same request, the same image).
DEFAULT_SEED = 8566257

#: Fields imgsdk fills from the request itself; every other mapping key is a provider option.
COMMON_FIELDS = ("prompt", "negative_prompt", "width", "height", "n", "seed", "checkpoint")

#: imgsdk field (or provider option) → (node id, input name) in :func:`default_workflow`.
DEFAULT_MAPPING: dict[str, tuple[str, str]] = {
    "prompt": ("6", "text"),
    "negative_prompt": ("7", "text"),
    "width": ("5", "width"),
    "height": ("5", "height"),
    "n": ("5", "batch_size"),
    "seed": ("3", "seed"),
    "checkpoint": ("4", "ckpt_name"),
    # Provider options (``provider_options={"comfyui": {"steps": 30}}``):
    "steps": ("3", "steps"),
    "cfg": ("3", "cfg"),
    "sampler_name": ("3", "sampler_name"),
    "scheduler": ("3", "scheduler"),
    "denoise": ("3", "denoise"),
    "filename_prefix": ("9", "filename_prefix"),
}

#: The (node id, input name) pairs one field is written to.
Targets = tuple[tuple[str, str], ...]

# Node types after which the image has the latent's width x height (to report a size before the bytes).
_PLAIN_NODES = frozenset({"CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler",
                          "VAEDecode", "SaveImage", "PreviewImage"})


def default_workflow() -> dict[str, Any]:
    """A fresh copy of the default text-to-image graph (callers mutate it)."""
    return {
        "3": {"class_type": "KSampler",
              "inputs": {"cfg": 8, "denoise": 1, "latent_image": ["5", 0], "model": ["4", 0],
                         "negative": ["7", 0], "positive": ["6", 0], "sampler_name": "euler",
                         "scheduler": "normal", "seed": DEFAULT_SEED, "steps": 20}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": DEFAULT_CHECKPOINT}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"batch_size": 1, "height": 512, "width": 512}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": ""}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": ""}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "imgsdk", "images": ["8", 0]}},
    }


def load_workflow(value: Any) -> dict[str, Any]:
    """The graph (a fresh copy) from a dict, a JSON string or a file path; None gives the default graph.

    A relative path is relative to the working directory. The UI format (``nodes`` + ``links``) is refused
    with the way to export the API format.
    """
    if value is None:
        return default_workflow()
    where = None
    if isinstance(value, str | os.PathLike) and not str(value).lstrip().startswith("{"):
        path = Path(value).expanduser()
        where = str(path)
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read the workflow file: {error.strerror or error}", path=where,
                              key="workflow") from error
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ConfigError(f"the workflow is not valid JSON: {error}", path=where, key="workflow") from error
    if not isinstance(value, Mapping):
        raise ConfigError("expected a workflow (node id → {class_type, inputs}): a dict, a JSON string or a "
                          "file path", path=where, key="workflow")
    if "nodes" in value and "links" in value:
        raise ConfigError("this is ComfyUI's UI format: export the workflow with 'Save (API Format)' (enable "
                          "the dev mode options in ComfyUI's settings) and use that file", path=where,
                          key="workflow")
    graph = {str(node): copy.deepcopy(spec) for node, spec in value.items()}
    for node, spec in graph.items():
        if not isinstance(spec, dict) or "class_type" not in spec or not isinstance(spec.get("inputs"), dict):
            raise ConfigError(f"node {node!r} is not an API-format node {{class_type, inputs}}", path=where,
                              key="workflow")
    return graph


def workflow_mapping(settings: Mapping[str, Any]) -> dict[str, Targets]:
    """Field → the (node id, input name) pairs it is written to: ``workflow_mapping``, else the default."""
    raw = settings.get("workflow_mapping")
    if raw is None:
        return {field: (target,) for field, target in DEFAULT_MAPPING.items()}
    if not isinstance(raw, Mapping):
        raise ConfigError("expected a table: field → [node_id, input_name]", key="workflow_mapping")
    mapping: dict[str, Targets] = {}
    for field, value in raw.items():
        pairs = [value] if _is_pair(value) else value
        if not isinstance(pairs, list | tuple) or not pairs or not all(_is_pair(pair) for pair in pairs):
            raise ConfigError(f"expected [node_id, input_name] or a list of them, got {value!r}",
                              key=f"workflow_mapping.{field}")
        mapping[str(field)] = tuple((str(pair[0]), str(pair[1])) for pair in pairs)
    if "prompt" not in mapping:
        raise ConfigError("workflow_mapping needs a 'prompt' entry (the positive text input, e.g. "
                          "['6', 'text'])", key="workflow_mapping")
    return mapping


def _is_pair(value: Any) -> bool:
    return (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(part, str | int) and not isinstance(part, bool) for part in value))


def submitted_graph(prompt: Any) -> Mapping[str, Any]:
    """The graph inside a history entry's ``prompt`` (``[number, prompt_id, graph, extra_data, outputs]``)."""
    for part in prompt if isinstance(prompt, list) else ():
        if isinstance(part, Mapping) and part and all(isinstance(spec, Mapping) and "class_type" in spec
                                                      for spec in part.values()):
            return part
    return {}


def seed_of(graph: Mapping[str, Any]) -> int | None:
    """The seed a graph ran with, when exactly one literal ``seed``/``noise_seed`` value is in it."""
    seeds = {value for spec in graph.values() for key, value in (spec.get("inputs") or {}).items()
             if key in ("seed", "noise_seed") and isinstance(value, int) and not isinstance(value, bool)}
    return seeds.pop() if len(seeds) == 1 else None


def size_of(graph: Mapping[str, Any]) -> str | None:
    """``WxH`` of a plain text-to-image graph (image = latent size); None when a node might resize."""
    if not graph or not all(spec.get("class_type") in _PLAIN_NODES for spec in graph.values()):
        return None
    latents = [spec.get("inputs") or {} for spec in graph.values()
               if spec.get("class_type") == "EmptyLatentImage"]
    if len(latents) != 1:
        return None
    width, height = latents[0].get("width"), latents[0].get("height")
    return f"{width}x{height}" if isinstance(width, int) and isinstance(height, int) else None
