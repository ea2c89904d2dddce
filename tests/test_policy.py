"""The policy engine (imgsdk.policy): every rule, in warn and strict mode, plus a property test.

Capabilities are built by hand here so each rule is tested against exactly the declaration it reads.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgsdk.capabilities import Lifecycle, ModelCapabilities, SizeSpec
from imgsdk.errors import InvalidRequestError, ModelRetiredError, UnsupportedOptionError
from imgsdk.policy import apply, check_lifecycle, nearest_ratio
from imgsdk.request import ImageRequest, RequestWarning, parse_size

# A DALL·E-3-like model: fixed sizes, node vocabulary, one image per call.
FIXED = ModelCapabilities(
    model="fixed-model", size=SizeSpec(mode="fixed", sizes=("1024x1024", "1792x1024", "1024x1792")),
    qualities=("standard", "hd"), quality_default="standard", styles=("vivid", "natural"),
    style_default="vivid", max_images=1, output_formats=("png",), output_format_default="png",
    user_field=True, prompt_max_chars=4000,
)
# A GPT-image-like model: its own quality words, node words translated, no style, backgrounds.
GPT_LIKE = ModelCapabilities(
    model="gpt-like", size=SizeSpec(mode="fixed", sizes=("1024x1024", "1536x1024", "1024x1536", "auto")),
    qualities=("low", "medium", "high", "auto"), quality_default="auto",
    quality_aliases={"hd": "high", "standard": "medium"}, styles=(), max_images=4,
    output_formats=("png", "jpeg", "webp"), output_format_default="png",
    background=("transparent", "opaque", "auto"), user_field=True, prompt_max_chars=32000,
)
# A ratio model (Imagen / Gemini style).
RATIO = ModelCapabilities(
    model="ratio-model", size=SizeSpec(mode="aspect_ratio", aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4")),
    max_images=4, seed=True, seed_range=(0, 2**31 - 1), negative_prompt=True,
    output_formats=("png", "jpeg"), output_format_default="png",
)
# A free-size model (FLUX / gpt-image-2 style): bounds, multiples, pixel budget, ratio bounds.
FREE = ModelCapabilities(
    model="free-model",
    size=SizeSpec(mode="free", min_side=256, max_side=2048, multiple=64, max_pixels=1_500_000,
                  min_ratio=0.25, max_ratio=4.0, default="1024x1024"),
    max_images=4, seed=True, seed_range=(0, 4_294_967_295), negative_prompt=True,
    output_formats=("png", "jpeg", "webp"), output_format_default="png",
)
# gpt-image-2's published rule: any WxH divisible by 16, ratio within 1:3..3:1, at most 3840x2160 pixels.
GPT_IMAGE_2_LIKE = ModelCapabilities(
    model="gpt-image-2-like",
    size=SizeSpec(mode="free", sizes=("1024x1024", "1536x1024", "1024x1536", "auto"), max_side=3840, multiple=16,
                  max_pixels=3840 * 2160, min_ratio=1 / 3, max_ratio=3.0),
    qualities=("low", "medium", "high", "auto"), quality_aliases={"hd": "high", "standard": "medium"},
    max_images=10, output_formats=("png", "jpeg", "webp"), background=("transparent", "opaque", "auto"),
)
# A model that takes no size at all.
NO_SIZE = ModelCapabilities(model="no-size", size=SizeSpec(mode="none"), output_formats=("jpeg",),
                            output_format_default="jpeg")


def run(request: ImageRequest, caps: ModelCapabilities = FIXED, mode: str = "warn", **kw: Any,
        ) -> tuple[Any, list[RequestWarning]]:
    return apply(request, caps, adapter="test", mode=mode, **kw)  # type: ignore[arg-type]


def req(**fields: Any) -> ImageRequest:
    return ImageRequest(prompt=fields.pop("prompt", "a lighthouse at dawn"), **fields)


def only(warnings: list[RequestWarning]) -> RequestWarning:
    assert len(warnings) == 1, warnings
    return warnings[0]


# -- request shape ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt_is_refused(prompt: str) -> None:
    with pytest.raises(InvalidRequestError, match="prompt is empty") as caught:
        ImageRequest(prompt=prompt)
    assert caught.value.option == "prompt"


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "2"])
def test_n_must_be_a_whole_number_at_least_one(n: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ImageRequest(prompt="x", n=n)
    assert caught.value.option == "n"


@pytest.mark.parametrize("size", ["big", "1024", "0x1024", "1024x0", "-5x10", "1024x1024x3", "axb", "16:0"])
def test_malformed_sizes_are_refused_early(size: str) -> None:
    with pytest.raises(InvalidRequestError, match="not a size") as caught:
        ImageRequest(prompt="x", size=size)
    assert caught.value.option == "size"


@pytest.mark.parametrize(("size", "parsed"), [
    ("1024x1024", ("pixels", 1024, 1024)), ("1792X1024", ("pixels", 1792, 1024)),
    (" 1024 × 1792 ", ("pixels", 1024, 1792)), ("16:9", ("ratio", 16, 9)), ("2.39:1", ("ratio", 2.39, 1)),
    ("auto", ("auto", 0, 0)), ("AUTO", ("auto", 0, 0)),
])
def test_parse_size(size: str, parsed: tuple[str, float, float]) -> None:
    assert parse_size(size) == parsed


@pytest.mark.parametrize("seed", [True, 1.5, "42"])
def test_seed_must_be_an_integer(seed: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ImageRequest(prompt="x", seed=seed)
    assert caught.value.option == "seed"


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        ImageRequest(prompt="x", timeout=timeout)


# -- sizes: fixed ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["1024x1024", "1792x1024", "1024x1792"])
def test_fixed_size_that_exists_is_sent_unchanged(size: str) -> None:
    prepared, warnings = run(req(size=size))
    assert warnings == []
    assert prepared.size == size
    assert (prepared.width, prepared.height) == tuple(int(v) for v in size.split("x"))
    assert prepared.aspect_ratio is None


def test_fixed_size_spelling_is_normalised() -> None:
    prepared, warnings = run(req(size=" 1792 × 1024 "))
    assert warnings == []
    assert prepared.size == "1792x1024"


@pytest.mark.parametrize(("asked", "sent"), [
    ("1920x1080", "1792x1024"),   # landscape → the landscape size
    ("1000x1500", "1024x1792"),   # portrait → the portrait size
    ("800x800", "1024x1024"),     # square → the square size
    ("4000x3000", "1792x1024"),   # 4:3 landscape: still the landscape one, never the square
    ("768x1024", "1024x1792"),    # 3:4 portrait: still the portrait one
    ("16:9", "1792x1024"),        # a ratio on a pixel model
    ("9:16", "1024x1792"),
])
def test_fixed_size_maps_to_nearest_of_same_orientation_with_warning(asked: str, sent: str) -> None:
    prepared, warnings = run(req(size=asked))
    assert prepared.size == sent
    assert f"{prepared.width}x{prepared.height}" == sent
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("adapted", "size", asked, sent)
    assert asked in warning.message and sent in warning.message  # names both sizes
    assert "test:fixed-model" in warning.message
    assert str(warning) == warning.message


def test_fixed_size_without_same_orientation_picks_the_closest_ratio() -> None:
    caps = ModelCapabilities(model="dalle2-like",
                             size=SizeSpec(mode="fixed", sizes=("256x256", "512x512", "1024x1024")))
    prepared, warnings = run(req(size="1792x1024"), caps)
    assert prepared.size == "1024x1024"  # closest area among equal ratios
    assert only(warnings).applied == "1024x1024"
    prepared, _ = run(req(size="300x300"), caps)
    assert prepared.size == "256x256"


def test_fixed_size_never_maps_to_auto() -> None:
    prepared, warnings = run(req(size="1000x1000"), GPT_LIKE)
    assert prepared.size == "1024x1024"
    assert only(warnings).applied == "1024x1024"


# -- sizes: aspect ratios --------------------------------------------------------------------------------------

def test_ratio_model_takes_an_allowed_ratio_silently() -> None:
    prepared, warnings = run(req(size="16:9"), RATIO)
    assert warnings == []
    assert prepared.aspect_ratio == "16:9"
    assert prepared.size is None and prepared.width is None


def test_ratio_model_equivalent_ratio_spelling_is_exact() -> None:
    prepared, warnings = run(req(size="32:18"), RATIO)
    assert warnings == []
    assert prepared.aspect_ratio == "16:9"


def test_ratio_model_exact_pixel_size_is_translated() -> None:
    prepared, warnings = run(req(size="1920x1080"), RATIO)
    assert prepared.aspect_ratio == "16:9"
    warning = only(warnings)
    assert (warning.code, warning.requested, warning.applied) == ("translated", "1920x1080", "16:9")
    assert "1920x1080" in warning.message and "16:9" in warning.message


@pytest.mark.parametrize(("asked", "ratio"), [("1000x700", "4:3"), ("21:9", "16:9"), ("1024x1792", "9:16"),
                                              ("900x1000", "1:1"), ("3000x1000", "16:9")])
def test_ratio_model_inexact_size_is_adapted_to_nearest_ratio(asked: str, ratio: str) -> None:
    prepared, warnings = run(req(size=asked), RATIO)
    assert prepared.aspect_ratio == ratio
    warning = only(warnings)
    assert (warning.code, warning.option, warning.applied) == ("adapted", "size", ratio)
    assert asked in warning.message and ratio in warning.message


def test_nearest_ratio_is_symmetric_on_a_log_scale() -> None:
    ratios = ("1:2", "1:1", "2:1")
    assert nearest_ratio(2, 1, ratios) == "2:1"
    assert nearest_ratio(1, 2, ratios) == "1:2"
    # sqrt(2):1 is exactly between 1:1 and 2:1 on a log scale; slightly above goes to 2:1
    assert nearest_ratio(1.45, 1, ratios) == "2:1"
    assert nearest_ratio(1.40, 1, ratios) == "1:1"
    assert nearest_ratio(16, 9, ("auto", "1:1", "16:9")) == "16:9"


# -- sizes: free -------------------------------------------------------------------------------------------------

def _assert_inside_free(caps: ModelCapabilities, width: int, height: int) -> None:
    spec = caps.size
    assert spec.min_side <= width <= spec.max_side and spec.min_side <= height <= spec.max_side
    assert width % spec.multiple == 0 and height % spec.multiple == 0
    if spec.max_pixels is not None:
        assert width * height <= spec.max_pixels
    if spec.min_ratio is not None:
        assert width / height >= spec.min_ratio - 1e-12
    if spec.max_ratio is not None:
        assert width / height <= spec.max_ratio + 1e-12


def test_free_size_inside_the_bounds_is_sent_unchanged() -> None:
    prepared, warnings = run(req(size="1024x768"), FREE)
    assert warnings == []
    assert (prepared.size, prepared.width, prepared.height) == ("1024x768", 1024, 768)


@pytest.mark.parametrize("asked", ["1000x1000", "1030x770", "100x100", "5000x1000", "1000x5000", "2048x2048",
                                   "300x4000", "257x257", "1x1", "9999x9999"])
def test_free_size_is_snapped_into_bounds_multiples_ratio_and_pixels(asked: str) -> None:
    prepared, warnings = run(req(size=asked), FREE)
    _assert_inside_free(FREE, prepared.width, prepared.height)
    assert prepared.size == f"{prepared.width}x{prepared.height}"
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == (
        "adapted", "size", asked, prepared.size)
    assert asked in warning.message and prepared.size in warning.message


def test_free_size_snapping_keeps_the_ratio_where_bounds_allow() -> None:
    prepared, _ = run(req(size="1000x1000"), FREE)
    assert prepared.size == "1024x1024"
    prepared, _ = run(req(size="2048x2048"), FREE)  # over the pixel budget: shrunk, still square
    assert prepared.width == prepared.height
    assert prepared.width * prepared.height <= 1_500_000
    prepared, _ = run(req(size="5000x1000"), FREE)  # 5:1 → at most 4:1
    assert math.isclose(prepared.width / prepared.height, 4.0, rel_tol=0.1)


def test_free_model_takes_a_ratio_at_its_default_area() -> None:
    prepared, warnings = run(req(size="16:9"), FREE)
    _assert_inside_free(FREE, prepared.width, prepared.height)
    assert math.isclose(prepared.width / prepared.height, 16 / 9, rel_tol=0.06)
    assert math.isclose(prepared.width * prepared.height, 1024 * 1024, rel_tol=0.1)
    assert only(warnings).code == "adapted"


def test_free_model_with_auto_default_takes_a_ratio() -> None:
    caps = ModelCapabilities(model="m", size=SizeSpec(mode="free", multiple=16, default="auto"))
    prepared, _ = run(req(size="16:9"), caps)
    assert prepared.width > prepared.height > 0


@pytest.mark.parametrize("asked", ["3000x1000", "4000x1000", "1000x3000", "3840x2160", "5000x100", "100x5000",
                                   "4096x4096", "17x17"])
def test_gpt_image_2_rule(asked: str) -> None:
    prepared, _ = run(req(size=asked), GPT_IMAGE_2_LIKE)
    _assert_inside_free(GPT_IMAGE_2_LIKE, prepared.width, prepared.height)


# -- sizes: auto and none -----------------------------------------------------------------------------------------

def test_auto_is_sent_where_the_model_has_it() -> None:
    prepared, warnings = run(req(size="auto"), GPT_LIKE)
    assert (prepared.size, warnings) == ("auto", [])
    assert prepared.width is None


def test_auto_is_left_to_the_model_where_it_has_no_auto() -> None:
    prepared, warnings = run(req(size="auto"), FIXED, mode="strict")
    assert prepared.size is None and warnings == []


def test_size_on_a_model_without_size_is_dropped() -> None:
    prepared, warnings = run(req(size="1024x1024"), NO_SIZE)
    assert prepared.size is None and prepared.aspect_ratio is None
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("dropped", "size", "1024x1024", None)
    with pytest.raises(UnsupportedOptionError) as caught:
        run(req(size="1024x1024"), NO_SIZE, mode="strict")
    assert (caught.value.option, caught.value.value) == ("size", "1024x1024")


def test_no_size_asked_sends_none_and_warns_nothing() -> None:
    for caps in (FIXED, RATIO, FREE, NO_SIZE, GPT_LIKE):
        prepared, warnings = run(req(), caps, mode="strict")
        assert warnings == []
        assert prepared.size is None and prepared.aspect_ratio is None


# -- quality and style -------------------------------------------------------------------------------------------

def test_quality_the_model_has_is_kept() -> None:
    prepared, warnings = run(req(quality="hd"), FIXED)
    assert (prepared.quality, warnings) == ("hd", [])
    prepared, warnings = run(req(quality="low"), GPT_LIKE)
    assert (prepared.quality, warnings) == ("low", [])


@pytest.mark.parametrize(("asked", "sent"), [("hd", "high"), ("standard", "medium")])
def test_node_quality_is_translated_with_a_warning(asked: str, sent: str) -> None:
    prepared, warnings = run(req(quality=asked), GPT_LIKE)
    assert prepared.quality == sent
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("translated", "quality", asked, sent)
    assert asked in warning.message and sent in warning.message


def test_unknown_quality_is_dropped_to_the_model_default() -> None:
    prepared, warnings = run(req(quality="ultra"), GPT_LIKE)
    assert prepared.quality is None
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("dropped", "quality", "ultra", "auto")
    assert "low, medium, high, auto" in warning.message  # what is allowed


def test_quality_on_a_model_without_quality_is_dropped() -> None:
    prepared, warnings = run(req(quality="hd"), RATIO)
    assert prepared.quality is None
    warning = only(warnings)
    assert (warning.code, warning.applied) == ("dropped", None)
    assert "no quality setting" in warning.message


def test_style_is_kept_where_supported() -> None:
    prepared, warnings = run(req(style="natural"), FIXED)
    assert (prepared.style, warnings) == ("natural", [])


def test_style_is_dropped_where_the_model_has_none() -> None:
    prepared, warnings = run(req(style="natural"), GPT_LIKE)
    assert prepared.style is None
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("dropped", "style", "natural", None)


def test_style_aliases_translate() -> None:
    caps = ModelCapabilities(model="m", styles=("photographic", "anime"), style_aliases={"natural": "photographic"})
    prepared, warnings = run(req(style="natural"), caps)
    assert prepared.style == "photographic"
    assert only(warnings).code == "translated"


# -- seed, negative prompt, format, background, user --------------------------------------------------------------

def test_seed_is_kept_where_supported() -> None:
    prepared, warnings = run(req(seed=42), RATIO)
    assert (prepared.seed, warnings) == (42, [])


def test_seed_is_dropped_where_unsupported() -> None:
    prepared, warnings = run(req(seed=42), FIXED)
    assert prepared.seed is None
    warning = only(warnings)
    assert (warning.code, warning.option, warning.requested, warning.applied) == ("dropped", "seed", 42, None)


@pytest.mark.parametrize("mode", ["warn", "strict"])
@pytest.mark.parametrize("seed", [-1, 2**31, 2**40])
def test_seed_out_of_range_is_refused_in_every_mode(seed: int, mode: str) -> None:
    with pytest.raises(InvalidRequestError, match="out of range") as caught:
        run(req(seed=seed), RATIO, mode=mode)
    assert not isinstance(caught.value, UnsupportedOptionError)
    assert caught.value.option == "seed"
    assert str(2**31 - 1) in str(caught.value)  # names the range


def test_seed_range_bounds_are_inclusive() -> None:
    assert run(req(seed=0), RATIO)[0].seed == 0
    assert run(req(seed=2**31 - 1), RATIO)[0].seed == 2**31 - 1


def test_negative_prompt_kept_or_dropped() -> None:
    prepared, warnings = run(req(negative_prompt="blurry"), RATIO)
    assert (prepared.negative_prompt, warnings) == ("blurry", [])
    prepared, warnings = run(req(negative_prompt="blurry"), FIXED)
    assert prepared.negative_prompt is None
    assert (only(warnings).code, only(warnings).option) == ("dropped", "negative_prompt")


@pytest.mark.parametrize("asked", ["jpg", "JPG", "jpeg", "JPEG"])
def test_output_format_jpg_means_jpeg(asked: str) -> None:
    prepared, warnings = run(req(output_format=asked), GPT_LIKE, mode="strict")
    assert (prepared.output_format, warnings) == ("jpeg", [])


def test_output_format_the_model_lacks_is_dropped_to_its_default() -> None:
    prepared, warnings = run(req(output_format="webp"), RATIO)
    assert prepared.output_format is None
    warning = only(warnings)
    assert (warning.code, warning.option, warning.applied) == ("dropped", "output_format", "png")
    assert "png, jpeg" in warning.message


def test_background_kept_or_dropped() -> None:
    prepared, warnings = run(req(background="transparent"), GPT_LIKE)
    assert (prepared.background, warnings) == ("transparent", [])
    prepared, warnings = run(req(background="transparent"), FIXED)
    assert prepared.background is None
    assert (only(warnings).code, only(warnings).option) == ("dropped", "background")
    prepared, warnings = run(req(background="checkered"), GPT_LIKE)
    assert prepared.background is None
    assert only(warnings).option == "background"


def test_user_kept_or_dropped() -> None:
    prepared, warnings = run(req(user="user-123"), FIXED)
    assert (prepared.user, warnings) == ("user-123", [])
    prepared, warnings = run(req(user="user-123"), RATIO)
    assert prepared.user is None
    assert (only(warnings).code, only(warnings).option) == ("dropped", "user")


def test_provider_options_only_for_the_serving_adapter() -> None:
    request = req(provider_options={"test": {"moderation": "low"}, "other": {"secret_sauce": 1}})
    prepared, warnings = run(request)
    assert dict(prepared.options) == {"moderation": "low"}
    assert warnings == []


def test_prepared_request_carries_model_prompt_and_capabilities() -> None:
    prepared, _ = run(req(prompt="a quiet harbour"), FIXED)
    assert (prepared.model, prepared.prompt, prepared.n, prepared.index) == ("fixed-model", "a quiet harbour", 1, 0)
    assert prepared.capabilities is FIXED


def test_warnings_follow_field_order_and_each_names_its_option() -> None:
    request = req(size="1000x1000", quality="ultra", style="natural", seed=3, negative_prompt="x", background="auto")
    _, warnings = run(request, FIXED)
    assert [w.option for w in warnings] == ["size", "quality", "seed", "negative_prompt", "background"]


# -- strict mode ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("caps", "fields", "option", "value", "allowed"), [
    (FIXED, {"size": "1920x1080"}, "size", "1920x1080", FIXED.size.sizes),
    (RATIO, {"size": "1920x1080"}, "size", "1920x1080", RATIO.size.aspect_ratios),
    (RATIO, {"size": "1000x700"}, "size", "1000x700", RATIO.size.aspect_ratios),
    (GPT_LIKE, {"quality": "hd"}, "quality", "hd", GPT_LIKE.qualities),
    (GPT_LIKE, {"quality": "ultra"}, "quality", "ultra", GPT_LIKE.qualities),
    (GPT_LIKE, {"style": "vivid"}, "style", "vivid", ()),
    (FIXED, {"seed": 1}, "seed", 1, None),
    (FIXED, {"negative_prompt": "blur"}, "negative_prompt", "blur", None),
    (RATIO, {"output_format": "webp"}, "output_format", "webp", RATIO.output_formats),
    (FIXED, {"background": "transparent"}, "background", "transparent", ()),
    (RATIO, {"user": "u1"}, "user", "u1", None),
])
def test_strict_refuses_with_option_value_and_allowed(caps: ModelCapabilities, fields: dict[str, Any], option: str,
                                                     value: Any, allowed: Any) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        run(req(**fields), caps, mode="strict")
    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert (error.option, error.value, error.allowed) == (option, value, allowed)
    assert (error.adapter, error.model) == ("test", caps.model)
    assert option in str(error)
    assert f"test:{caps.model}" in str(error)
    assert "strict" in str(error)


@pytest.mark.parametrize(("caps", "fields", "value"), [
    (FIXED, {"size": "1920x1080"}, "1920x1080"),
    (GPT_LIKE, {"quality": "ultra"}, "ultra"),
    (GPT_LIKE, {"style": "vivid"}, "vivid"),
    (RATIO, {"output_format": "webp"}, "webp"),
    (FIXED, {"seed": 123456}, "123456"),
    (FIXED, {"negative_prompt": "blurry faces"}, "blurry faces"),
    (RATIO, {"user": "user-77"}, "user-77"),
    (NO_SIZE, {"size": "640x480"}, "640x480"),
])
def test_strict_message_names_the_value(caps: ModelCapabilities, fields: dict[str, Any], value: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        run(req(**fields), caps, mode="strict")
    assert value in str(caught.value)


def test_strict_free_size_names_the_bounds() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        run(req(size="1000x1000"), FREE, mode="strict")
    assert caught.value.option == "size"
    assert "multiples of 64" in str(caught.value.allowed)
    assert "1024x1024" in str(caught.value)


def test_strict_raises_on_the_first_problem_before_producing_anything() -> None:
    # Two problems: the first one met (size) is reported; nothing is returned.
    with pytest.raises(UnsupportedOptionError) as caught:
        run(req(size="1920x1080", style="natural"), GPT_LIKE, mode="strict")
    assert caught.value.option == "size"


def test_strict_accepts_everything_that_fits_exactly() -> None:
    request = req(size="1792x1024", quality="hd", style="natural", user="u", output_format="png")
    prepared, warnings = run(request, FIXED, mode="strict")
    assert warnings == []
    assert (prepared.size, prepared.quality, prepared.style, prepared.user, prepared.output_format) == (
        "1792x1024", "hd", "natural", "u", "png")


# -- soft fields (defaults) --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_soft_fields_are_adapted_silently_and_never_refused(mode: str) -> None:
    request = req(size="1024x1024", quality="standard", style="vivid",
                  soft=frozenset({"size", "quality", "style"}))
    prepared, warnings = run(request, RATIO, mode=mode)
    assert warnings == []
    assert prepared.aspect_ratio == "1:1"
    assert prepared.quality is None and prepared.style is None
    prepared, warnings = run(request, GPT_LIKE, mode=mode)
    assert warnings == []
    assert (prepared.size, prepared.quality, prepared.style) == ("1024x1024", "medium", None)


def test_soft_only_covers_the_fields_it_names() -> None:
    request = req(size="1000x1000", style="vivid", soft=frozenset({"size"}))
    _, warnings = run(request, GPT_LIKE)
    assert [w.option for w in warnings] == ["style"]
    with pytest.raises(UnsupportedOptionError) as caught:
        run(request, GPT_LIKE, mode="strict")
    assert caught.value.option == "style"


# -- limits that hold in every mode -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_prompt_over_the_limit_names_limit_and_length(mode: str) -> None:
    caps = ModelCapabilities(model="short", prompt_max_chars=10)
    with pytest.raises(InvalidRequestError) as caught:
        run(req(prompt="x" * 11), caps, mode=mode)
    message = str(caught.value)
    assert "11" in message and "10" in message
    assert caught.value.option == "prompt"
    assert not isinstance(caught.value, UnsupportedOptionError)
    assert run(req(prompt="x" * 10), caps, mode=mode)[0].prompt == "x" * 10


def test_prompt_limit_is_checked_before_options_in_strict_mode() -> None:
    caps = ModelCapabilities(model="short", prompt_max_chars=5)
    with pytest.raises(InvalidRequestError, match="at most 5") as caught:
        run(req(prompt="too long prompt", style="vivid"), caps, mode="strict")
    assert not isinstance(caught.value, UnsupportedOptionError)


def test_n_over_max_images_is_refused_by_apply() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run(req(n=2), FIXED)
    assert caught.value.option == "n"
    assert "n=2" in str(caught.value) and "at most 1" in str(caught.value)
    with pytest.raises(InvalidRequestError):
        run(req(n=5), GPT_LIKE, n=5)


def test_n_per_call_may_be_given_for_a_fan_out() -> None:
    prepared, warnings = run(req(n=10), GPT_LIKE, n=4)
    assert (prepared.n, warnings) == (4, [])
    assert run(req(n=4), GPT_LIKE)[0].n == 4


# -- lifecycle ---------------------------------------------------------------------------------------------------

RETIRED = ModelCapabilities(model="old", lifecycle=Lifecycle(status="deprecated", shutdown_on="2020-01-01",
                                                             replacement="new-model"))


def test_shut_down_model_is_refused_on_the_default_service() -> None:
    with pytest.raises(ModelRetiredError) as caught:
        check_lifecycle(RETIRED, adapter="test", default_service=True)
    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert (error.shutdown, error.replacement, error.adapter, error.model) == ("2020-01-01", "new-model", "test", "old")
    assert "2020-01-01" in str(error) and "new-model" in str(error) and "test:old" in str(error)
    assert "allow_retired" in str(error)


def test_shut_down_model_is_fine_behind_a_custom_service_or_when_allowed() -> None:
    check_lifecycle(RETIRED, adapter="test", default_service=False)
    check_lifecycle(RETIRED, adapter="test", default_service=True, allow_retired=True)


def test_retired_status_is_refused_without_a_date() -> None:
    caps = ModelCapabilities(model="gone", lifecycle=Lifecycle(status="retired"))
    with pytest.raises(ModelRetiredError) as caught:
        check_lifecycle(caps, adapter="test", default_service=True)
    assert caught.value.replacement is None
    assert "gone" in str(caught.value)


def test_deprecated_model_with_a_future_shutdown_still_works() -> None:
    caps = ModelCapabilities(model="soon", lifecycle=Lifecycle(status="deprecated", shutdown_on="2999-01-01"))
    check_lifecycle(caps, adapter="test", default_service=True)
    check_lifecycle(FIXED, adapter="test", default_service=True)


# -- property: whatever is returned is inside the declaration -------------------------------------------------------

CAPABILITY_SETS = [FIXED, GPT_LIKE, RATIO, FREE, GPT_IMAGE_2_LIKE, NO_SIZE]

_sizes = st.one_of(
    st.none(), st.just("auto"),
    st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 8000), st.integers(1, 8000)),
    st.builds(lambda w, h: f"{w}:{h}", st.integers(1, 40), st.integers(1, 40)),
)
_words = ["standard", "hd", "low", "medium", "high", "auto", "ultra", "vivid", "natural", "photographic"]
_requests = st.fixed_dictionaries({}, optional={
    "size": _sizes,
    "quality": st.sampled_from(_words),
    "style": st.sampled_from(_words),
    "seed": st.integers(-10, 2**33),
    "negative_prompt": st.just("blurry"),
    "output_format": st.sampled_from(["png", "jpg", "jpeg", "webp", "gif"]),
    "background": st.sampled_from(["transparent", "opaque", "auto", "checkered"]),
    "user": st.just("user-1"),
    "n": st.integers(1, 12),
})


def _check_inside(prepared: Any, caps: ModelCapabilities) -> None:
    spec = caps.size
    if prepared.size not in (None, "auto"):
        if spec.mode == "fixed":
            assert prepared.size in spec.sizes
        elif spec.mode == "free":
            _assert_inside_free(caps, prepared.width, prepared.height)
        else:
            raise AssertionError(f"a pixel size was sent to a {spec.mode} model")
    if prepared.size == "auto":
        assert "auto" in spec.sizes
    if prepared.aspect_ratio is not None:
        assert spec.mode == "aspect_ratio" and prepared.aspect_ratio in spec.aspect_ratios
    assert prepared.quality is None or prepared.quality in caps.qualities
    assert prepared.style is None or prepared.style in caps.styles
    if prepared.seed is not None:
        assert caps.seed and caps.seed_range[0] <= prepared.seed <= caps.seed_range[1]
    assert prepared.negative_prompt is None or caps.negative_prompt
    assert prepared.output_format is None or prepared.output_format in caps.output_formats
    assert prepared.background is None or prepared.background in caps.background
    assert prepared.user is None or caps.user_field
    assert 1 <= prepared.n <= caps.max_images


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(caps=st.sampled_from(CAPABILITY_SETS), fields=_requests, mode=st.sampled_from(["warn", "strict"]))
def test_every_result_is_inside_the_declared_capabilities(caps: ModelCapabilities, fields: dict[str, Any],
                                                         mode: str) -> None:
    request = ImageRequest(prompt="a lighthouse", **fields)
    try:
        prepared, warnings = apply(request, caps, adapter="prop", mode=mode,  # type: ignore[arg-type]
                                   n=min(request.n, caps.max_images))
    except UnsupportedOptionError as error:
        assert mode == "strict"
        assert error.option in fields  # only what the user set is refused
        return
    except InvalidRequestError as error:
        assert error.option == "seed"  # the only refusal in warn mode for these requests: seed out of range
        return
    _check_inside(prepared, caps)
    assert {w.option for w in warnings} <= set(fields)  # only options the user set produce warnings
    if mode == "strict":
        assert warnings == []
