"""``AdapterContract``: the conformance suite every adapter inherits — ours and third-party ones.

Like fsspec's abstract filesystem tests: subclass it in a test module and supply a few fixtures; every test below
then runs against your adapter::

    from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample

    class TestMyAdapter(AdapterContract):
        @pytest.fixture
        def adapter(self):                       # required: the adapter instance
            return MyAdapter()

        @pytest.fixture
        def success_samples(self):               # required: one documented answer per model family
            return [SuccessSample("my-model", [WireResponse(200, {"content-type": "application/json"}, BODY)])]

        @pytest.fixture
        def error_samples(self):                 # documented failures and the typed error each must become
            return [ErrorSample(WireResponse(401, {}, b'{"error": "bad key"}'), AuthenticationError)]

Optional fixtures: ``endpoint`` (default: the adapter's ``default_base_url`` with the canary key
:data:`~imgsdk.testing.contract_checks.CANARY_KEY`; give ``settings`` here when your adapter reads profile keys)
and ``models`` (default: the catalogue, ``{model id: None}``; map an id to a ModelCapabilities to check a
declaration as if it came from config). Class attributes: ``status_expectations`` (overrides of
:data:`~imgsdk.testing.contract_checks.DEFAULT_STATUSES`, per HTTP status) and ``known_failures``.

What is checked (each check is a *case* with an id, so every failure is reported at once):

- declarations are coherent: defaults inside the allowed sets, ``max_images ≥ 1``, sizes inside their bounds,
  lifecycle dates ordered (``deprecated_on ≤ shutdown_on``), a replacement that exists (in the catalogue or as
  ``adapter:model`` of an installed adapter) and is not itself shut down, a poll protocol that is implemented;
- declared versus wire, for every model and option (size, quality, style, n, seed, negative_prompt,
  output_format, background, user): a supported option changes the wire request, an unsupported one is dropped
  with a warning, refused in strict mode, and never reaches the wire (requests built with
  :func:`imgsdk.policy.apply` and ``adapter.build_request``, then compared);
- the prompt reaches the wire, and the key travels only in a header listed in ``secret_headers`` (so cassettes
  and logs can scrub it);
- each success sample parses to images with a non-empty url, revised_prompt and ``WxH`` size;
- error samples and bare error statuses map to the typed hierarchy (401 → AuthenticationError...), and
  permanent errors are not retried.

A real bug the suite finds is recorded, not hidden: list its case id in ``known_failures`` with the reason; the
loop tests skip it and ``test_known_failure`` runs it as ``xfail(strict=True)``, so fixing the bug turns the
entry into a failure that asks for its removal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from imgsdk.adapter import Adapter, Endpoint, Secret
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import ImgSDKError

from .contract_answers import cases
from .contract_checks import CANARY_KEY, DEFAULT_STATUSES, ContractViolation, ErrorSample, SuccessSample

__all__ = ["CANARY_KEY", "AdapterContract", "ContractViolation", "ErrorSample", "SuccessSample"]


class Contract:
    """The cases of one adapter, runnable by id prefix, with the known failures set aside."""

    def __init__(self, found: Mapping[str, Callable[[], None]], known: Mapping[str, str]) -> None:
        self.cases = dict(found)
        self.known = dict(known)

    def run(self, prefix: str) -> int:
        """Run every case whose id starts with ``prefix`` (known failures aside); fail listing every violation."""
        selected = [case for case in self.cases if case.startswith(prefix) and case not in self.known]
        failures = []
        for case in selected:
            try:
                self.cases[case]()
            except ContractViolation as violation:
                failures.append(f"{case}: {violation}")
            except Exception as error:
                failures.append(f"{case}: the adapter raised {type(error).__name__}: {error}")
        if failures:
            pytest.fail(f"{len(failures)} of {len(selected)} case(s) break the adapter contract:\n"
                        + "\n".join(failures), pytrace=False)
        return len(selected)

    def run_one(self, case: str) -> None:
        """Run one case; any exception from the adapter counts as a violation (so it can be xfail'd)."""
        if case not in self.cases:
            raise LookupError(f"known_failures names {case!r}, which is no case of this adapter (cases: "
                              f"{', '.join(sorted(self.cases)[:12])}...)")
        try:
            self.cases[case]()
        except ContractViolation:
            raise
        except Exception as error:
            raise ContractViolation(f"the adapter raised {type(error).__name__}: {error}") from error


class AdapterContract:
    """The abstract conformance suite (see the module docstring). Subclass it; do not run it directly."""

    #: Per HTTP status, the typed error(s) an empty-bodied error answer may become (merged over the defaults).
    status_expectations: ClassVar[Mapping[int, tuple[type[ImgSDKError], ...]]] = {}
    #: Case id → why it fails today. Each runs as xfail(strict=True); the other tests skip it.
    known_failures: ClassVar[Mapping[str, str]] = {}

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "known_case" in metafunc.fixturenames:
            params = [pytest.param(case, id=case, marks=pytest.mark.xfail(strict=True, reason=reason,
                                                                          raises=ContractViolation))
                      for case, reason in sorted(type(self).known_failures.items())]
            none = pytest.param(None, id="none", marks=pytest.mark.skip(reason="no known contract failures"))
            metafunc.parametrize("known_case", params or [none])

    # -- fixtures a subclass supplies ------------------------------------------------------------------------
    @pytest.fixture
    def adapter(self) -> Adapter:
        raise NotImplementedError("supply an `adapter` fixture returning the adapter instance under test")

    @pytest.fixture
    def endpoint(self, adapter: Adapter) -> Endpoint:
        return Endpoint(base_url=(adapter.default_base_url or "https://adapter-contract.invalid").rstrip("/"),
                        api_key=Secret(CANARY_KEY), default_service=False)

    @pytest.fixture
    def models(self, adapter: Adapter) -> Mapping[str, ModelCapabilities | None]:
        return {model: None for model in sorted(adapter.catalogue())}

    @pytest.fixture
    def success_samples(self) -> Sequence[SuccessSample]:
        return ()

    @pytest.fixture
    def error_samples(self) -> Sequence[ErrorSample]:
        return ()

    @pytest.fixture
    def contract(self, adapter: Adapter, endpoint: Endpoint, models: Mapping[str, ModelCapabilities | None],
                 success_samples: Sequence[SuccessSample], error_samples: Sequence[ErrorSample]) -> Contract:
        statuses = {**DEFAULT_STATUSES, **type(self).status_expectations}
        return Contract(cases(adapter, endpoint, models, success_samples, error_samples, statuses),
                        type(self).known_failures)

    # -- the tests --------------------------------------------------------------------------------------------
    def test_every_model_family_has_a_success_sample(self, contract: Contract) -> None:
        contract.run("adapter:")

    def test_capabilities_are_coherent(self, contract: Contract) -> None:
        assert contract.run("capabilities:") >= 1, "the adapter declares no model: nothing to check"

    def test_lifecycles_are_coherent(self, contract: Contract) -> None:
        contract.run("lifecycle:")

    def test_requests_carry_the_prompt_and_keep_the_key_in_secret_headers(self, contract: Contract) -> None:
        contract.run("request:")

    def test_supported_options_change_the_wire_request(self, contract: Contract) -> None:
        contract.run("supported:")

    def test_unsupported_options_never_reach_the_wire(self, contract: Contract) -> None:
        contract.run("unsupported:")

    def test_success_samples_parse_to_url_revised_prompt_and_size(self, contract: Contract) -> None:
        contract.run("sample:")

    def test_error_samples_map_to_typed_errors(self, contract: Contract) -> None:
        contract.run("error:")

    def test_error_statuses_map_to_typed_errors(self, contract: Contract) -> None:
        contract.run("status:")

    def test_known_failure(self, contract: Contract, known_case: str) -> None:
        contract.run_one(known_case)


def with_settings(endpoint: Endpoint, **settings: Any) -> Endpoint:
    """``endpoint`` with profile settings added (a convenience for ``endpoint`` fixtures)."""
    return Endpoint(base_url=endpoint.base_url, api_key=endpoint.api_key, token_provider=endpoint.token_provider,
                    default_service=endpoint.default_service, settings={**endpoint.settings, **settings})
