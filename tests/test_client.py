"""Client and AsyncClient: resolution, policy before the network, fan-out, partial results, redaction.

Most tests run twice (sync and async) through the ``harness`` fixture, against the fake provider.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from conftest import (
    FAKE_CONFIG,
    FAKE_KEY_VAR,
    FakeServer,
    Harness,
    error_reply,
    images_reply,
    job_done_reply,
    reply,
)

import imgsdk
from imgsdk.adapter import JobHandle
from imgsdk.errors import (
    AuthenticationError,
    ConfigError,
    ContentPolicyError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelRetiredError,
    ProviderError,
    RequestRejectedError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.templates import TemplateError

IMAGES = "/v1/images"
KEY = "sk-fake-test-VERY-SECRET-0123456789abcdef"


def failing_seed(seed: int, failure: Any) -> Any:
    """Answer images, except for the call whose body carries ``seed``."""
    ok = images_reply()

    def answer(request: httpx2.Request) -> httpx2.Response:
        if json.loads(request.content).get("seed") == seed:
            return failure(request)  # type: ignore[no-any-return]
        return ok(request)
    return answer


# -- what goes on the wire -----------------------------------------------------------------------------------------

async def test_plain_call_sends_only_what_was_asked(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply(headers={"x-request-id": "req-1"}))
    result = await harness.generate("a red fox in snow")
    assert fake.bodies() == [{"model": "sync-model", "prompt": "a red fox in snow", "n": 1}]
    sent = fake.sent("POST")[0]
    assert str(sent.url) == "http://fake.test/v1/images"
    assert sent.headers["user-agent"] == f"imgsdk/{imgsdk.__version__}"
    assert "authorization" not in sent.headers  # no key configured, none sent
    assert result.warnings == [] and result.errors == []
    assert (result.provider, result.model, result.profile) == ("fake-test:sync-model", "sync-model", "fake")
    assert result.request_id == "req-1"
    assert result.prompt == "a red fox in snow"
    assert result.revised_prompt == "a red fox in snow"  # the provider did not rewrite it
    assert result.size == "8x8" and result.url.startswith("data:image/png;base64,")


async def test_provider_rewrite_is_the_revised_prompt(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply(revised_prompt="A vivid red fox standing in fresh snow"))
    result = await harness.generate()
    assert result.revised_prompt == "A vivid red fox standing in fresh snow"
    assert result.prompt == "a red fox in snow"


async def test_options_are_applied_by_policy_with_warnings(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(size="1920x1080", quality="hd", style="natural", seed=9,
                                    negative_prompt="blurry", output_format="jpg")
    assert fake.bodies() == [{"model": "sync-model", "prompt": "a red fox in snow", "n": 1, "size": "1792x1024",
                              "quality": "high", "style": "natural", "seed": 9, "output_format": "jpeg"}]
    assert [(w.code, w.option) for w in result.warnings] == [
        ("adapted", "size"), ("translated", "quality"), ("dropped", "negative_prompt")]


async def test_provider_options_are_namespaced(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    await harness.generate(provider_options={"fake-test": {"moderation": "low"}, "openai": {"secret": 1}})
    body = fake.bodies()[0]
    assert body["moderation"] == "low"
    assert "secret" not in body


async def test_templated_prompt_is_rendered_before_sending(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate("a {{ animal.name }} in {{ places.0 }}",
                                    context={"animal": {"name": "fox"}, "places": ["snow"]})
    assert fake.bodies()[0]["prompt"] == "a fox in snow"
    assert result.prompt == "a fox in snow" and result.revised_prompt == "a fox in snow"


# -- refused before the network --------------------------------------------------------------------------------

async def test_strict_per_call_refuses_before_any_request(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    with pytest.raises(UnsupportedOptionError) as caught:
        await harness.generate(size="1920x1080", on_unsupported="strict")
    assert (caught.value.option, caught.value.value) == ("size", "1920x1080")
    assert caught.value.allowed == ("1024x1024", "1792x1024", "1024x1792")
    assert fake.count() == 0


async def test_strict_per_client(harness: Harness, fake: FakeServer) -> None:
    harness.build(on_unsupported="strict")
    with pytest.raises(UnsupportedOptionError, match="quality"):
        await harness.generate(quality="ultra")
    assert fake.count() == 0


@pytest.mark.parametrize(("options", "error_type", "fragment"), [
    ({"prompt": "   "}, InvalidRequestError, "prompt is empty"),
    ({"prompt": "x" * 201}, InvalidRequestError, "at most 200"),
    ({"prompt": "a {{ missing }}"}, TemplateError, "missing"),
    ({"size": "huge"}, InvalidRequestError, "not a size"),
    ({"n": 0}, InvalidRequestError, "n must be"),
    ({"seed": -5}, InvalidRequestError, "out of range"),
    ({"provider": "fake-test:chat-4o"}, ModelNotFoundError, "not an image model"),
    ({"provider": "fake-test:sync-modle"}, ModelNotFoundError, "Did you mean 'sync-model'"),
    ({"provider": "fake-test:old-model"}, ModelRetiredError, "2020-01-01"),
])
async def test_bad_requests_are_refused_before_the_network(harness: Harness, fake: FakeServer,
                                                           options: dict[str, Any], error_type: type[Exception],
                                                           fragment: str) -> None:
    fake.on("POST", IMAGES, images_reply())
    options = dict(options)
    prompt = options.pop("prompt", "a fox")
    with pytest.raises(error_type, match=fragment):
        await harness.generate(prompt, context={}, **options)
    assert fake.count() == 0


async def test_non_image_model_names_the_image_models(harness: Harness) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        await harness.generate(provider="fake-test:chat-4o")
    assert "sync-model" in str(caught.value) and "poll-model" in str(caught.value)


async def test_retired_model_names_date_and_replacement(harness: Harness) -> None:
    with pytest.raises(ModelRetiredError) as caught:
        await harness.generate(provider="fake-test:old-model")
    assert (caught.value.shutdown, caught.value.replacement) == ("2020-01-01", "sync-model")
    assert "sync-model" in str(caught.value)


async def test_retired_model_works_behind_a_custom_base_url_or_when_allowed(harness: Harness,
                                                                           fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    harness.build({"providers": {"proxy": {"model": "fake-test:old-model", "base_url": "http://proxy.test"}}})
    result = await harness.generate(provider="proxy")
    assert result.provider == "fake-test:old-model"
    assert str(fake.sent("POST")[0].url) == "http://proxy.test/v1/images"
    await harness.generate(provider="fake-test:old-model", allow_retired=True)
    assert str(fake.sent("POST")[1].url) == "http://fake.test/v1/images"
    harness.build(allow_retired=True)
    await harness.generate(provider="fake-test:old-model")
    assert fake.count("POST") == 3


async def test_a_deprecated_model_warns_once_per_client_with_its_date_and_replacement(harness: Harness,
                                                                                      fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    first = await harness.generate(provider="fake-test:aging-model")
    [warning] = [w for w in first.warnings if w.code == "deprecated"]
    assert (warning.option, warning.requested, warning.applied) == ("model", "aging-model", "sync-model")
    assert warning.message.startswith("fake-test:aging-model is deprecated on fake-test's service: it shuts down "
                                      "on 2099-01-01 (in ")
    assert warning.message.endswith("days); move to sync-model")
    second = await harness.generate(provider="fake-test:aging-model")
    assert [w for w in second.warnings if w.code == "deprecated"] == []  # said once per client
    assert fake.count() == 2  # deprecated models are still served


async def test_a_deprecated_model_behind_another_base_url_does_not_warn(harness: Harness, fake: FakeServer) -> None:
    harness.build({"providers": {"proxy": {"model": "fake-test:aging-model", "base_url": "http://proxy.fake.test"}}})
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(provider="proxy")
    assert [w for w in result.warnings if w.code == "deprecated"] == []


async def test_unknown_model_passes_through_when_allowed_and_warns_once(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    first = await harness.generate(provider="fake-test:next-gen", allow_unknown_model=True, size="333x777")
    assert [w.code for w in first.warnings] == ["unknown_model"]
    assert "[models]" in first.warnings[0].message
    assert fake.bodies()[0]["model"] == "next-gen"
    assert fake.bodies()[0]["size"] == "333x777"  # unchecked: passed through
    second = await harness.generate(provider="fake-test:next-gen", allow_unknown_model=True)
    assert second.warnings == []  # once per client


async def test_unknown_adapter_gets_did_you_mean(harness: Harness) -> None:
    with pytest.raises(ConfigError) as caught:
        await harness.generate(provider="fake-tset")
    assert "Did you mean 'fake-test'" in str(caught.value)
    assert "fake" in str(caught.value)  # profiles are listed


async def test_unknown_adapter_in_a_reference_gets_did_you_mean(harness: Harness) -> None:
    with pytest.raises(ConfigError) as caught:
        await harness.generate(provider="fake-tset:sync-model")
    assert "Did you mean 'fake-test'" in str(caught.value)


async def test_adapter_name_alone_uses_its_default_model(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(provider="fake-test")
    assert result.provider == "fake-test:sync-model"
    assert result.profile is None


# -- fan-out and partial results ------------------------------------------------------------------------------------

async def test_fan_out_splits_n_by_max_images_with_consecutive_seeds(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(n=5, seed=100)
    calls = sorted(fake.bodies(), key=lambda body: body["seed"])
    assert [(c["n"], c["seed"]) for c in calls] == [(2, 100), (2, 102), (1, 104)]
    assert len(result.images) == 5
    assert [image.seed for image in result.images] == [100, 101, 102, 103, 104]
    assert result.warnings == [] and result.errors == []


async def test_fan_out_without_seed_sends_no_seed(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(n=4)
    assert sorted(b["n"] for b in fake.bodies()) == [2, 2]
    assert all("seed" not in b for b in fake.bodies())
    assert len(result.images) == 4


async def test_fan_out_warnings_are_reported_once(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(n=6, style="cartoon")
    assert fake.count("POST") == 3
    assert [w.option for w in result.warnings] == ["style"]


async def test_fan_out_seeds_stay_inside_the_seed_range(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    top = 2**31 - 1  # the fake model's seed_range upper bound
    try:
        await harness.generate(n=5, seed=top - 1)
    except InvalidRequestError:
        assert fake.count() == 0  # refusing before the network is fine too
        return
    assert all(0 <= body["seed"] <= top for body in fake.bodies())


async def test_partial_success_keeps_images_and_reports_the_failure(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, failing_seed(102, error_reply(400, "prompt rejected for this seed")))
    result = await harness.generate(n=5, seed=100)
    assert fake.count("POST") == 3
    assert [image.seed for image in result.images] == [100, 101, 104]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert isinstance(error, RequestRejectedError)
    assert error.status == 400 and "prompt rejected" in str(error)


async def test_partial_success_with_a_transient_failure(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, failing_seed(104, error_reply(500)))
    result = await harness.generate(n=5, seed=100)
    assert len(result.images) == 4
    assert [type(e) for e in result.errors] == [ServiceUnavailableError]
    assert fake.count("POST") == 2 + 3  # the failing call was retried


async def test_raise_on_partial(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, failing_seed(102, error_reply(400, "nope")))
    with pytest.raises(RequestRejectedError, match="nope"):
        await harness.generate(n=5, seed=100, raise_on_partial=True)


async def test_all_calls_failing_raises(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(400, "always no"))
    with pytest.raises(RequestRejectedError, match="always no"):
        await harness.generate(n=5, seed=100)
    assert fake.count("POST") == 3


async def test_content_policy_on_one_call_of_a_fan_out(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, failing_seed(100, error_reply(400, "blocked", code="content_policy_violation")))
    result = await harness.generate(n=3, seed=100)
    assert [image.seed for image in result.images] == [102]
    assert len(result.errors) == 1


# -- results: cost, usage, request ids ------------------------------------------------------------------------------

async def test_cost_from_the_price_table(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    result = await harness.generate(n=3)  # nothing sent: the model's defaults (medium, 1024x1024) are priced
    assert result.cost_usd == pytest.approx(0.12)
    result = await harness.generate(size="1792x1024")  # no exact line → the catch-all line
    assert result.cost_usd == pytest.approx(0.08)


async def test_usage_is_summed_over_a_fan_out(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply(usage={"input_tokens": 10, "output_tokens": 100,
                                                "input_tokens_details": {"text_tokens": 10}}))
    result = await harness.generate(n=4)
    assert result.usage == {"input_tokens": 20, "output_tokens": 200, "input_tokens_details": {"text_tokens": 20}}


# -- secrets never leak -----------------------------------------------------------------------------------------

def _assert_no_key(error: BaseException, key: str = KEY) -> None:
    assert key not in str(error)
    assert key not in repr(error)
    assert all(key not in str(arg) for arg in error.args)
    if isinstance(error, ProviderError):
        assert key not in repr(error.body)
        assert key not in error.detail
        assert key not in str(error.code)


async def test_a_key_echoed_in_an_error_is_redacted(harness: Harness, fake: FakeServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, KEY)
    fake.on("POST", IMAGES, reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}.",
                                                  "code": "invalid_api_key", "key": KEY}},
                                  {"x-request-id": "req-auth"}))
    with pytest.raises(AuthenticationError) as caught:
        await harness.generate()
    assert fake.sent("POST")[0].headers["authorization"] == f"Bearer {KEY}"  # the key was really used
    error = caught.value
    _assert_no_key(error)
    assert "[REDACTED]" in str(error)
    assert "Incorrect API key provided" in str(error)
    assert (error.status, error.request_id, error.code) == (401, "req-auth", "invalid_api_key")
    assert error.exit_code == 3


async def test_a_key_echoed_by_a_failure_after_retries_is_redacted(harness: Harness, fake: FakeServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, KEY)
    fake.on("POST", IMAGES, error_reply(503, f"upstream said: bad header Bearer {KEY}"))
    with pytest.raises(ServiceUnavailableError) as caught:
        await harness.generate()
    _assert_no_key(caught.value)


async def test_a_key_echoed_in_a_partial_failure_is_redacted(harness: Harness, fake: FakeServer) -> None:
    harness.build({"providers": {"p": {"model": "fake-test:sync-model", "api_key": KEY}}})
    fake.on("POST", IMAGES, failing_seed(2, error_reply(400, f"key {KEY} may not use seed 2")))
    result = await harness.generate(provider="p", n=4, seed=0)
    assert len(result.images) == 2
    _assert_no_key(result.errors[0])


async def test_a_key_echoed_in_a_polling_verdict_is_redacted(harness: Harness, fake: FakeServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, KEY)
    fake.on("POST", "/v1/jobs", reply(202, {"id": "job-1"}))
    fake.on("GET", "/v1/jobs/job-1", reply(200, {"status": "moderated", "reason": f"flagged for account {KEY}"}))
    with pytest.raises(ContentPolicyError) as caught:
        await harness.generate(provider="poller")
    _assert_no_key(caught.value)


async def test_a_key_echoed_while_resuming_is_redacted(harness: Harness, fake: FakeServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, KEY)
    fake.on("GET", "/v1/jobs/job-1", error_reply(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(AuthenticationError) as caught:
        await harness.resume(JobHandle("fake-test", "poll-model", "job-1"))
    _assert_no_key(caught.value)


async def test_a_key_echoed_in_a_content_policy_reason_is_redacted(harness: Harness, fake: FakeServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, KEY)
    fake.on("POST", "/v1/jobs", reply(202, {"id": "job-1"}))
    fake.on("GET", "/v1/jobs/job-1", reply(200, {"status": "moderated", "reason": f"flagged for account {KEY}"}))
    with pytest.raises(ContentPolicyError) as caught:
        await harness.generate(provider="poller")
    assert KEY not in str(caught.value.reason)
    assert all(KEY not in repr(value) for value in vars(caught.value).values())


async def test_provider_error_names_adapter_model_status_and_request_id(harness: Harness,
                                                                        fake: FakeServer) -> None:
    fake.on("POST", IMAGES, reply(500, {"error": {"message": "the GPU caught fire"}}, {"x-request-id": "req-123"}))
    with pytest.raises(ServiceUnavailableError) as caught:
        await harness.generate()
    message = str(caught.value)
    for part in ("the GPU caught fire", "fake-test:sync-model", "HTTP 500", "req-123"):
        assert part in message


# -- resolution and defaults ---------------------------------------------------------------------------------------

def test_offline_default_with_a_one_line_notice(capsys: pytest.CaptureFixture[str]) -> None:
    client = imgsdk.Client()
    result = client.generate("a red fox in snow", size="64x64")
    assert result.provider == "local:placeholder"
    assert result.size == "64x64"
    notice = capsys.readouterr().err
    assert notice.count("\n") == 1
    assert "local:placeholder" in notice and "OPENAI_API_KEY" in notice and "imgsdk.toml" in notice
    client.generate("again", size="64x64")
    assert capsys.readouterr().err == ""  # said once


def test_module_level_generate() -> None:
    result = imgsdk.generate("a red fox", size="96x64", seed=1)
    assert (result.provider, result.size) == ("local:placeholder", "96x64")
    assert result.images[0].seed == 1
    # imgsdk.capabilities() itself is tested in a fresh interpreter (test_public_api.py): in this process the
    # submodule imgsdk.capabilities has already replaced the function (a core bug reported there).


async def test_module_level_agenerate() -> None:
    result = await imgsdk.agenerate("a red fox", size="64x96")
    assert result.size == "64x96"


def test_openai_key_in_the_environment_selects_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        from imgsdk.registry import get_adapter

        openai = get_adapter("openai")
    except Exception as error:  # the adapter is written in another branch of the work
        pytest.skip(f"the openai adapter is not importable yet: {error}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    target = imgsdk.Client().target()
    assert target.adapter.name == "openai"
    assert target.capabilities.model == openai.default_model
    assert target.endpoint.api_key is not None and target.endpoint.api_key.get() == "sk-env"


def test_client_capabilities_as_data() -> None:
    client = imgsdk.Client(FAKE_CONFIG)
    assert client.capabilities().model == "sync-model"  # the default profile
    assert client.capabilities("poller").protocol == "poll"
    assert client.capabilities("fake-test:old-model").lifecycle.replacement == "sync-model"  # retired: still data


async def test_an_injected_http_client_is_used_and_reused(fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    http = httpx2.Client(transport=fake.transport())
    client = imgsdk.Client(FAKE_CONFIG, http_client=http, sleep=lambda s: None)
    client.generate("one")
    client.generate("two")
    assert client._client() is http  # one HTTP client per imgsdk client
    assert fake.count("POST") == 2
    client.close()
    assert http.is_closed


async def test_the_async_client_is_an_async_context_manager(fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    async with imgsdk.AsyncClient(FAKE_CONFIG, transport=fake.transport()) as client:
        result = await client.generate("a fox")
        http = client._client()
        assert result.provider == "fake-test:sync-model"
    assert http.is_closed


def test_the_sync_client_is_a_context_manager(fake: FakeServer) -> None:
    fake.on("POST", IMAGES, images_reply())
    with imgsdk.Client(FAKE_CONFIG, transport=fake.transport()) as client:
        client.generate("a fox")
        http = client._client()
    assert http.is_closed


# -- with_options: other defaults for some calls, the same pool and limits ----------------------------------------

async def test_with_options_changes_retries_and_mode_for_the_copy_only(harness: Harness, fake: FakeServer) -> None:
    base = harness.build()
    fake.on("POST", IMAGES, error_reply(503, "overloaded"))
    impatient = base.with_options(max_retries=0)
    harness.client = impatient
    with pytest.raises(ServiceUnavailableError):
        await harness.generate()
    assert fake.count() == 1  # no retry on the copy
    harness.client = base
    with pytest.raises(ServiceUnavailableError):
        await harness.generate()
    assert fake.count() == 1 + 3  # the original still retries twice
    harness.client = base.with_options(on_unsupported="strict")
    with pytest.raises(UnsupportedOptionError, match="quality"):
        await harness.generate(quality="ultra")
    assert fake.count() == 4  # refused before the network
    assert base._client() is impatient._client()  # one connection pool
    target = base.target(None)
    assert base.limits(target) is impatient.limits(impatient.target(None))  # one rate limit, one cap


async def test_with_options_timeout_is_the_copys_deadline(harness: Harness) -> None:
    base = harness.build(timeout=600)
    quick = base.with_options(timeout=5)
    assert quick.target(None).retry.deadline == 5 and base.target(None).retry.deadline == 600


@pytest.mark.parametrize("options", [{"timeout": 0}, {"timeout": "5"}, {"max_retries": -1}, {"max_retries": True},
                                     {"on_unsupported": "loud"}])
def test_with_options_refuses_bad_values(options: dict[str, Any]) -> None:
    with imgsdk.Client(FAKE_CONFIG) as client, pytest.raises(ValueError):
        client.with_options(**options)


# -- a paid job whose polling lost contact is kept, not paid for again elsewhere -----------------------------------

def test_a_rate_limit_while_polling_a_paid_job_keeps_the_job_and_does_not_fall_back() -> None:
    calls: list[tuple[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.host))
        if request.url.host == "first.test":
            if request.method == "POST":
                return httpx2.Response(200, json={"id": "job-1", "status": "queued"})
            return httpx2.Response(429, headers={"retry-after": "600"},
                                   json={"error": {"message": "slow down", "code": "rate_limited"}})
        return images_reply()(request)

    config = {"providers": {"first": {"model": "fake-test:poll-model", "base_url": "http://first.test",
                                      "fallbacks": ["second"]},
                            "second": {"model": "fake-test:sync-model", "base_url": "http://second.test"}},
              "default": "first"}
    submitted: list[JobHandle] = []
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client, \
            pytest.raises(imgsdk.RateLimitError) as caught:
        client.generate("a fox", on_submitted=submitted.append, seed=7)
    assert [host for _, host in calls] == ["first.test", "first.test"]  # submitted, polled; second never paid
    assert caught.value.job == submitted[0] and caught.value.job.job_id == "job-1"
    assert (caught.value.job.seed, caught.value.job.index, caught.value.job.n) == (7, 0, 1)
    assert "client.resume(error.job)" in str(caught.value)


def test_result_ids_do_not_follow_the_users_random_seed() -> None:
    """File names hold the result's uid: a script that seeds the random module must not repeat them."""
    import random

    with imgsdk.Client() as client:
        random.seed(7)
        first = client.generate("a fox", provider="local:placeholder", size="64x64").uid
        random.seed(7)
        second = client.generate("a fox", provider="local:placeholder", size="64x64").uid
    assert first != second


POLL_THEN_SYNC = {"providers": {"first": {"model": "fake-test:poll-model", "base_url": "http://first.test",
                                          "fallbacks": ["second"]},
                                "second": {"model": "fake-test:sync-model", "base_url": "http://second.test"}},
                  "default": "first"}


def test_a_fan_out_with_one_paid_job_still_running_does_not_fall_back() -> None:
    """n=2 on a one-image-per-call poll model: call 0 fails at submit (nothing paid), call 1 is submitted and
    its polling is rate limited. No fallback (job-8 would be paid twice); the raised error carries job-8 and
    notes the other call's failure."""
    calls: list[tuple[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.host))
        if request.url.host != "first.test":
            return images_reply()(request)
        if request.method == "POST":
            if json.loads(request.content)["seed"] == 7:
                return httpx2.Response(503, json={"error": {"message": "down"}})
            return httpx2.Response(200, json={"id": "job-8", "status": "queued"})
        return httpx2.Response(429, headers={"retry-after": "600"}, json={"error": {"message": "slow"}})

    with imgsdk.Client(POLL_THEN_SYNC, transport=httpx2.MockTransport(handler), sleep=lambda _: None,
                       max_retries=0) as client, pytest.raises(imgsdk.RateLimitError) as caught:
        client.generate("a fox", n=2, seed=7)
    assert all(host == "first.test" for _, host in calls)
    assert caught.value.job.job_id == "job-8" and caught.value.job.profile == "first"
    assert any("ServiceUnavailableError: down" in note for note in caught.value.__notes__)


def test_a_poll_that_times_out_keeps_the_job_and_resume_finds_the_profile() -> None:
    """Polls time out at the transport: the job was never cancelled, so no fallback; error.job resumes through
    the profile it was submitted with (its base_url), not the adapter's default service."""
    calls: list[tuple[str, str]] = []
    polls_fail = [True]

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.host))
        if request.url.host != "first.test":
            return images_reply()(request)
        if request.method == "POST":
            return httpx2.Response(200, json={"id": "job-1", "status": "queued"})
        if polls_fail[0]:
            raise httpx2.ReadTimeout("timed out", request=request)
        return job_done_reply()(request)

    with imgsdk.Client(POLL_THEN_SYNC, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        with pytest.raises(imgsdk.ProviderTimeoutError) as caught:
            client.generate("a fox", seed=7)
        assert all(host == "first.test" for _, host in calls) and ("DELETE", "first.test") not in calls
        assert caught.value.job.job_id == "job-1" and not caught.value.job_cancelled
        polls_fail[0] = False
        result = client.resume(caught.value.job)
    assert len(result.images) == 1 and result.profile == "first"
    assert calls[-1] == ("GET", "first.test")


def test_a_job_cancelled_at_the_deadline_does_fall_back(fake_time: Any) -> None:
    """The deadline passed while the job was pending: it is cancelled (DELETE), and the fallback serves."""
    calls: list[tuple[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.host))
        if request.url.host != "first.test":
            return images_reply()(request)
        if request.method == "POST":
            return httpx2.Response(200, json={"id": "job-1", "status": "queued"})
        return httpx2.Response(200, json={"id": "job-1", "status": "queued"})  # never finishes

    with imgsdk.Client(POLL_THEN_SYNC, transport=httpx2.MockTransport(handler), sleep=fake_time.sleep,
                       clock=fake_time.clock, timeout=5) as client:
        result = client.generate("a fox", seed=7)
    assert ("DELETE", "first.test") in calls and calls[-1] == ("POST", "second.test")
    assert result.profile == "second"
    [fallback] = [w for w in result.warnings if w.code == "fallback"]
    assert "ProviderTimeoutError" in fallback.message


def test_a_refused_cancel_keeps_the_job_and_does_not_fall_back(fake_time: Any) -> None:
    """The deadline passed and the provider refused the cancel (409): the job runs on, paid for. No fallback."""
    calls: list[tuple[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.host))
        if request.url.host != "first.test":
            return images_reply()(request)
        if request.method == "DELETE":
            return httpx2.Response(409, json={"error": {"message": "already running"}})
        return httpx2.Response(200, json={"id": "job-1", "status": "queued"})

    with imgsdk.Client(POLL_THEN_SYNC, transport=httpx2.MockTransport(handler), sleep=fake_time.sleep,
                       clock=fake_time.clock, timeout=5) as client, \
            pytest.raises(imgsdk.ProviderTimeoutError) as caught:
        client.generate("a fox", seed=7)
    assert ("DELETE", "first.test") in calls and ("POST", "second.test") not in calls
    assert caught.value.job.job_id == "job-1" and not caught.value.job_cancelled


def test_a_final_answer_while_polling_is_not_a_job_to_resume() -> None:
    """A 5xx the provider marks as final (x-should-retry: false; fal's failed app) settles the job: no handle
    on the error, and the fallback may serve."""
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.host != "first.test":
            return images_reply()(request)
        if request.method == "POST":
            return httpx2.Response(200, json={"id": "job-1", "status": "queued"})
        return httpx2.Response(500, headers={"x-should-retry": "false"}, json={"error": {"message": "app failed"}})

    with imgsdk.Client(POLL_THEN_SYNC, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate("a fox", seed=7)
    assert result.profile == "second"


def test_two_jobs_still_running_are_both_on_the_error() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST":
            seed = json.loads(request.content)["seed"]
            return httpx2.Response(200, json={"id": f"job-{seed}", "status": "queued"})
        return httpx2.Response(429, headers={"retry-after": "600"}, json={"error": {"message": "slow"}})

    config = {"providers": {"first": {"model": "fake-test:poll-model", "base_url": "http://first.test"}},
              "default": "first"}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client, \
            pytest.raises(imgsdk.RateLimitError) as caught:
        client.generate("a fox", n=2, seed=7)
    assert sorted(job.job_id for job in caught.value.jobs) == ["job-7", "job-8"]
    assert caught.value.job in caught.value.jobs


def test_resume_never_lends_a_same_named_profile_of_another_provider_its_key() -> None:
    """A handle recorded through profile "main" of fake-test, resumed where "main" now is another provider:
    the job is polled on its adapter's own service, without main's key."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.url.host, request.headers.get("authorization")))
        return job_done_reply()(request)

    config = {"providers": {"main": {"model": "openai:gpt-image-2", "api_key": "sk-OPENAI-SECRET-0123456789"}}}
    handle = JobHandle("fake-test", "poll-model", "job-1", {"prompt": "a fox"}, profile="main")
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.resume(handle)
    assert len(result.images) == 1 and result.profile is None
    assert all(host == "fake.test" and "OPENAI" not in str(auth) for host, auth in seen)
