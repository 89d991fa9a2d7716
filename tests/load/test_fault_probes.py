"""The two auth-service faults show their symptom to a direct probe; the faithful auth service does not."""

from collections.abc import Iterator

import httpx
import pytest

from lockstep.demo import KNOWN_FAULTS, DemoStack

from .probes import PROBES


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    limits = httpx.Limits(max_connections=16)
    with httpx.Client(trust_env=False, timeout=20.0, limits=limits) as http:
        yield http


@pytest.fixture(scope="module")
def faithful() -> Iterator[DemoStack]:
    with DemoStack() as running:
        yield running


def test_both_faults_are_in_the_zoo_with_a_one_line_description():
    assert set(PROBES) <= set(KNOWN_FAULTS)
    assert all("\n" not in KNOWN_FAULTS[name] and "auth service" in KNOWN_FAULTS[name] for name in PROBES)


@pytest.mark.parametrize("fault", sorted(PROBES))
def test_the_fault_shows_its_symptom_and_the_faithful_service_does_not(fault, faithful, client):
    probe = PROBES[fault]
    assert not probe(faithful, client), f"the faithful auth service shows the symptom of {fault}"
    with DemoStack([fault]) as faulty:
        assert probe(faulty, client), f"{fault}: {KNOWN_FAULTS[fault]}"
        answer = client.get(faulty.jwks_url)  # the gateway's key fetches are never what breaks
        assert answer.status_code == 200 and answer.json()["keys"]
