"""Retries, Retry-After, deadlines and polling (imgsdk.engine), through the real clients and MockTransport.

Every test runs with the sync and the async client (the ``harness`` fixture); nothing really sleeps: the
recorded waits are checked instead, and the fake clock advances by exactly what was slept.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools

import httpx2
import pytest
from conftest import (
    FakeServer,
    Harness,
    error_reply,
    images_reply,
    job_done_reply,
    png_bytes,
    raising,
    reply,
)

from imgsdk.adapter import JobHandle, Pending
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    InvalidRequestError,
    PermissionDeniedError,
    ProviderError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServiceUnavailableError,
)

IMAGES = "/v1/images"
JOBS = "/v1/jobs"
JOB = "/v1/jobs/job-42"


# -- Retry-After ---------------------------------------------------------------------------------------------

async def test_429_with_retry_after_then_200_succeeds_after_the_hinted_wait(harness: Harness,
                                                                           fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, "slow down", headers={"retry-after": "3"}), images_reply())
    result = await harness.generate()
    assert len(result.images) == 1
    assert fake.count("POST", IMAGES) == 2
    assert harness.time.sleeps == [3.0]


async def test_retry_after_ms_is_honoured_and_wins_over_retry_after(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after-ms": "1500", "retry-after": "9"}),
            images_reply())
    await harness.generate()
    assert harness.time.sleeps == [1.5]
    assert fake.count("POST") == 2


async def test_retry_after_as_an_http_date(harness: Harness, fake: FakeServer) -> None:
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    fake.on("POST", IMAGES, error_reply(503, headers={"retry-after": when}), images_reply())
    await harness.generate()
    assert len(harness.time.sleeps) == 1
    assert 25.0 <= harness.time.sleeps[0] <= 31.0


async def test_retry_after_date_in_the_past_means_retry_now(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            images_reply())
    await harness.generate()
    assert harness.time.sleeps == [0.0]


async def test_unparseable_retry_after_falls_back_to_backoff(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after": "soon"}), images_reply())
    result = await harness.generate()
    assert len(result.images) == 1
    assert len(harness.time.sleeps) == 1 and 0.5 <= harness.time.sleeps[0] <= 0.625


async def test_negative_retry_after_is_not_a_negative_wait(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after": "-1"}), images_reply())
    await harness.generate()
    assert fake.count("POST") == 2
    assert all(seconds >= 0 for seconds in harness.time.sleeps)


async def test_retry_after_above_the_cap_is_not_retried(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, "come back tomorrow", headers={"retry-after": "121"}), images_reply())
    with pytest.raises(RateLimitError) as caught:
        await harness.generate()
    assert caught.value.retry_after == 121.0
    assert caught.value.status == 429
    assert fake.count("POST") == 1
    assert harness.time.sleeps == []


async def test_retry_after_at_the_cap_is_retried(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after": "120"}), images_reply())
    await harness.generate()
    assert harness.time.sleeps == [120.0]


async def test_retry_after_beyond_the_deadline_is_not_retried(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, headers={"retry-after": "30"}), images_reply())
    with pytest.raises(RateLimitError):
        await harness.generate(timeout=10)
    assert fake.count("POST") == 1
    assert harness.time.sleeps == []


# -- what is retried, and how often -----------------------------------------------------------------------------

async def test_three_500s_give_service_unavailable_after_max_retries_plus_one(harness: Harness,
                                                                            fake: FakeServer) -> None:
    fake.on("POST", IMAGES, reply(500, {"error": {"message": "internal"}}, {"x-request-id": "req-500"}))
    with pytest.raises(ServiceUnavailableError) as caught:
        await harness.generate()
    assert fake.count("POST") == 3  # max_retries=2 → 3 attempts
    assert caught.value.status == 500
    assert caught.value.request_id == "req-500"
    # exponential backoff with a little jitter: 0.5 s then 1 s (plus at most an eighth of a second)
    assert len(harness.time.sleeps) == 2
    assert 0.5 <= harness.time.sleeps[0] <= 0.625
    assert 1.0 <= harness.time.sleeps[1] <= 1.125


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_max_retries_is_configurable(harness: Harness, fake: FakeServer, max_retries: int) -> None:
    fake.on("POST", IMAGES, error_reply(503))
    harness.build(max_retries=max_retries)
    with pytest.raises(ServiceUnavailableError):
        await harness.generate()
    assert fake.count("POST") == max_retries + 1
    assert len(harness.time.sleeps) == max_retries


async def test_backoff_is_capped(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(502))
    harness.build(max_retries=8)
    with pytest.raises(ServiceUnavailableError):
        await harness.generate()
    sleeps = harness.time.sleeps
    assert len(sleeps) == 8
    assert all(s <= 8.0 + 0.125 for s in sleeps)  # max_delay, plus jitter
    assert all(later >= earlier - 0.125 for earlier, later in itertools.pairwise(sleeps))
    assert sleeps[-1] >= 8.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(harness: Harness, fake: FakeServer, status: int) -> None:
    fake.on("POST", IMAGES, error_reply(status), images_reply())
    result = await harness.generate()
    assert len(result.images) == 1
    assert fake.count("POST") == 2


@pytest.mark.parametrize(("status", "error_type"), [
    (400, RequestRejectedError), (404, ProviderError), (422, RequestRejectedError),
    (401, AuthenticationError), (403, PermissionDeniedError),
])
async def test_client_errors_are_not_retried(harness: Harness, fake: FakeServer, status: int,
                                             error_type: type[Exception]) -> None:
    fake.on("POST", IMAGES, error_reply(status, "bad request"), images_reply())
    with pytest.raises(error_type) as caught:
        await harness.generate()
    assert fake.count("POST") == 1
    assert harness.time.sleeps == []
    assert caught.value.status == status  # type: ignore[attr-defined]


async def test_a_400_is_both_a_provider_error_and_an_invalid_request(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(400, "size must be one of ...", code="invalid_size"))
    with pytest.raises(RequestRejectedError) as caught:
        await harness.generate()
    error = caught.value
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert (error.adapter, error.model, error.status, error.code) == ("fake-test", "sync-model", 400, "invalid_size")
    assert error.exit_code == 2


async def test_quota_429_is_not_retried(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(429, "You exceeded your current quota", code="insufficient_quota",
                                        headers={"retry-after": "1"}), images_reply())
    with pytest.raises(QuotaExceededError) as caught:
        await harness.generate()
    assert fake.count("POST") == 1
    assert harness.time.sleeps == []
    assert caught.value.code == "insufficient_quota"
    assert caught.value.exit_code == 3


async def test_x_should_retry_false_wins_over_a_5xx(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(500, headers={"x-should-retry": "false"}), images_reply())
    with pytest.raises(ServiceUnavailableError):
        await harness.generate()
    assert fake.count("POST") == 1


async def test_x_should_retry_true_wins_over_a_400(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(400, headers={"x-should-retry": "true"}), images_reply())
    result = await harness.generate()
    assert len(result.images) == 1
    assert fake.count("POST") == 2


async def test_x_should_retry_does_not_lift_max_retries(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, error_reply(400, headers={"x-should-retry": "true"}))
    with pytest.raises(RequestRejectedError):
        await harness.generate()
    assert fake.count("POST") == 3


async def test_connection_errors_are_retried(harness: Harness, fake: FakeServer) -> None:
    refused = raising(lambda request: httpx2.ConnectError("connection refused", request=request))
    fake.on("POST", IMAGES, refused, refused, images_reply())
    result = await harness.generate()
    assert len(result.images) == 1
    assert fake.count("POST") == 3
    assert len(harness.time.sleeps) == 2


async def test_connection_errors_that_persist_become_service_unavailable(harness: Harness,
                                                                       fake: FakeServer) -> None:
    fake.on("POST", IMAGES, raising(lambda request: httpx2.ConnectError("connection refused", request=request)))
    with pytest.raises(ServiceUnavailableError) as caught:
        await harness.generate()
    assert fake.count("POST") == 3
    error = caught.value
    assert error.status is None
    assert (error.adapter, error.model) == ("fake-test", "sync-model")
    assert "could not reach" in str(error) and "ConnectError" in str(error)


async def test_read_timeouts_that_persist_become_a_timeout_error(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", IMAGES, raising(lambda request: httpx2.ReadTimeout("timed out", request=request)))
    with pytest.raises(ProviderTimeoutError):
        await harness.generate()
    assert fake.count("POST") == 3


# -- polling --------------------------------------------------------------------------------------------------

def _submitted(job_id: str = "job-42") -> object:
    return reply(202, {"id": job_id, "status": "queued"})


def _pending(**fields: object) -> object:
    return reply(200, {"status": "pending", **fields})


async def test_pending_three_times_then_done(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending(progress=0.1), _pending(progress=0.5), _pending(progress=0.9), job_done_reply())
    progress: list[Pending] = []
    result = await harness.generate("a harbour", provider="poller", on_progress=progress.append)
    assert fake.count("POST") == 1
    assert fake.count("GET", JOB) == 4
    assert result.size == "8x8"
    assert result.revised_prompt == "a harbour"
    assert [p.handle.job_id for p in progress] == ["job-42"] * 4
    assert [p.progress for p in progress] == [None, 0.1, 0.5, 0.9]
    # one wait before each poll, growing, and capped
    sleeps = harness.time.sleeps
    assert len(sleeps) == 4
    assert sleeps[0] == 0.5
    assert sleeps == sorted(sleeps) and max(sleeps) <= 5.0


async def test_polling_honours_the_providers_retry_after(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, reply(202, {"id": "job-42", "retry_after": 2}))
    fake.on("GET", JOB, _pending(retry_after=7), job_done_reply())
    await harness.generate(provider="poller")
    assert harness.time.sleeps == [2, 7]


async def test_moderated_job_raises_content_policy_and_stops_polling(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending(), reply(200, {"status": "moderated", "reason": "nsfw"}), _pending())
    with pytest.raises(ContentPolicyError) as caught:
        await harness.generate(provider="poller")
    assert (caught.value.stage, caught.value.reason) == ("output", "nsfw")
    assert caught.value.exit_code == 3
    assert fake.count("GET", JOB) == 2  # no poll after the verdict
    assert fake.count("DELETE") == 0
    assert fake.count("POST") == 1


async def test_job_never_ready_times_out_naming_the_job_and_cancels_it(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending())
    fake.on("DELETE", JOB, reply(200, {"status": "cancelled"}))
    harness.build(timeout=30)
    with pytest.raises(ProviderTimeoutError) as caught:
        await harness.generate(provider="poller")
    error = caught.value
    assert "job-42" in str(error)
    assert (error.adapter, error.model) == ("fake-test", "poll-model")
    assert fake.count("DELETE", JOB) == 1
    assert fake.count("POST") == 1
    assert fake.count("GET", JOB) >= 5
    assert sum(harness.time.sleeps) <= 30  # never waited past the deadline


async def test_per_call_timeout_bounds_polling(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending())
    fake.on("DELETE", JOB, reply(204))
    with pytest.raises(ProviderTimeoutError, match="job-42"):
        await harness.generate(provider="poller", timeout=5)
    assert sum(harness.time.sleeps) <= 5
    assert fake.count("DELETE") == 1


async def test_a_cancel_that_fails_still_raises_the_timeout(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending())
    fake.on("DELETE", JOB, error_reply(500))
    with pytest.raises(ProviderTimeoutError):
        await harness.generate(provider="poller", timeout=3)
    assert fake.count("DELETE") == 1  # best effort, sent once, not retried


async def test_a_502_while_polling_resumes_polling_without_resubmitting(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, _pending(), error_reply(502), error_reply(502), error_reply(503), job_done_reply())
    result = await harness.generate(provider="poller")
    assert len(result.images) == 1
    assert fake.count("POST") == 1
    assert fake.count("GET", JOB) == 5


async def test_polling_is_more_patient_than_submitting(harness: Harness, fake: FakeServer) -> None:
    # max_retries=2 for the submit, but a paid job survives six transient failures in a row while polling
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, *[error_reply(502)] * 6, job_done_reply())
    result = await harness.generate(provider="poller")
    assert len(result.images) == 1
    assert fake.count("POST") == 1


async def test_a_connection_error_while_polling_is_retried(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, raising(lambda request: httpx2.ConnectError("reset", request=request)), job_done_reply())
    result = await harness.generate(provider="poller")
    assert len(result.images) == 1
    assert fake.count("POST") == 1


async def test_resume_from_a_serialised_handle_makes_no_submit(harness: Harness, fake: FakeServer) -> None:
    handle = JobHandle("fake-test", "poll-model", "job-42", {"prompt": "a harbour at dawn"})
    text = handle.to_json()
    assert JobHandle.from_json(text) == handle
    fake.on("GET", JOB, _pending(), job_done_reply(png_bytes(16, 12)))
    result = await harness.resume(text)
    assert fake.count("POST") == 0
    assert fake.count("GET", JOB) == 2
    assert result.size == "16x12"
    assert result.revised_prompt == "a harbour at dawn"
    assert result.provider == "fake-test:poll-model"


async def test_resume_accepts_a_handle_object(harness: Harness, fake: FakeServer) -> None:
    fake.on("GET", "/v1/jobs/job-9", job_done_reply())
    result = await harness.resume(JobHandle("fake-test", "poll-model", "job-9", {"prompt": "p"}))
    assert len(result.images) == 1
    assert fake.count("POST") == 0


async def test_resume_surfaces_a_moderated_job(harness: Harness, fake: FakeServer) -> None:
    fake.on("GET", JOB, reply(200, {"status": "moderated", "reason": "violence"}))
    with pytest.raises(ContentPolicyError):
        await harness.resume(JobHandle("fake-test", "poll-model", "job-42"))
    assert fake.count("POST") == 0


async def test_poll_images_with_urls_are_fetched_lazily(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", JOBS, _submitted())
    fake.on("GET", JOB, job_done_reply(url="https://cdn.fake.test/img/1.png"))
    fake.on("GET", "/img/1.png", lambda request: httpx2.Response(200, content=png_bytes(20, 10),
                                                                 headers={"content-type": "image/png"}))
    harness.build(resolver=lambda host, port: ["93.184.216.34"])  # a public address: no DNS lookup
    result = await harness.generate(provider="poller")
    image = result.images[0]
    assert image.url == "https://cdn.fake.test/img/1.png"
    assert image.size == "8x8"  # reported, nothing fetched yet
    assert fake.count("GET", "/img/1.png") == 0
    data = image.data if harness.kind == "sync" else await image.adata()
    assert data == png_bytes(20, 10)
    assert image.size == "20x10"  # now read from the bytes
    assert image.media_type == "image/png"
    assert fake.count("GET", "/img/1.png") == 1
    fetch_request = fake.sent("GET", "/img/1.png")[0]
    assert "authorization" not in fetch_request.headers  # signed URLs never get a key


async def test_errors_while_resuming_name_the_model(harness: Harness, fake: FakeServer) -> None:
    fake.on("GET", JOB, error_reply(400, "no such job", headers={"x-request-id": "req-r"}))
    with pytest.raises(RequestRejectedError) as caught:
        await harness.resume(JobHandle("fake-test", "poll-model", "job-42"))
    assert caught.value.model == "poll-model"
    assert "fake-test:poll-model" in str(caught.value)
