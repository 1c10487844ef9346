"""The StopNCII-compatible API, driven by Meta's own client (python-threatexchange)."""

from __future__ import annotations

from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICaseStatus,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)

from redress.hub.participants.schemas import Scope
from tests.hub.conftest import MD5_A, PDQ_A, PDQ_B, RunningHub, pdq


def _client(hub: RunningHub, key: str) -> StopNCIIAPI:
    return StopNCIIAPI(
        subscription_key=key,
        fetch_function_key=key,
        additional_function_keys={
            StopNCIIEndpoint.SubmitFeedback: key,
            StopNCIIEndpoint.SubmitHashes: key,
        },
        base_url_override=f"{hub.url}/stopncii/v1",
    )


def _everything(api: StopNCIIAPI) -> dict:  # type: ignore[type-arg]
    return {
        (record.signalType, record.hashValue): record
        for page in api.fetch_hashes_iter(start_timestamp=0)
        for record in page.hashRecords
    }


def test_threatexchange_client_round_trip(hub: RunningHub) -> None:
    key = hub.participant("HMA user", tuple(Scope))
    kept = hub.create_case([pdq(PDQ_A)], [{"type": "md5", "value": MD5_A}])
    gone = hub.create_case([pdq(PDQ_B)])
    hub.create_case([{"type": "sha256", "value": "ab" * 32}])  # not a StopNCII type
    api = _client(hub, key)

    records = _everything(api)
    assert set(records) == {
        (StopNCIISignalType.ImagePDQ, PDQ_A),
        (StopNCIISignalType.VideoMD5, MD5_A),
        (StopNCIISignalType.ImagePDQ, PDQ_B),
    }
    assert all(r.hashStatus is StopNCIICaseStatus.Active for r in records.values())
    refs = list(records[(StopNCIISignalType.ImagePDQ, PDQ_A)].caseNumbers)
    assert refs and all(ref.startswith("i_") for ref in refs)
    assert kept["case_number"] not in refs

    hub.client.post(f"/v1/cases/{gone['case_number']}/withdraw", json={"pin": gone["pin"]})
    records = _everything(api)
    assert records[(StopNCIISignalType.ImagePDQ, PDQ_B)].hashStatus is StopNCIICaseStatus.Withdrawn

    api.submit_feedback(
        StopNCIISignalType.ImagePDQ, PDQ_A, StopNCIICSPFeedbackValue.Blocked, {"nudity"}
    )
    record = _everything(api)[(StopNCIISignalType.ImagePDQ, PDQ_A)]
    assert [(f.feedbackValue, f.source, f.tags) for f in record.CSPFeedbacks] == [
        (StopNCIICSPFeedbackValue.Blocked, "HMA user", {"nudity"})
    ]
    status = hub.client.post(
        f"/v1/cases/{kept['case_number']}/status", json={"pin": kept["pin"]}
    ).json()
    assert status["items"][0]["platforms_removed"] == 1


def test_paging_with_small_pages_fetches_every_record_once(hub: RunningHub) -> None:
    key = hub.participant("Pager", (Scope.FEED_READ,))
    values = [f"{n:02x}" * 32 for n in range(7)]
    for value in values:
        hub.create_case([pdq(value)])
    api = _client(hub, key)
    seen: list[str] = []
    token = ""
    while True:
        page = api.fetch_hashes(page_size=3, start_timestamp=0, next_page=token)
        seen.extend(r.hashValue for r in page.hashRecords)
        if not page.hasMoreRecords:
            break
        token = page.nextPageToken or ""
    assert sorted(seen) == sorted(values)
    assert len(seen) == len(set(seen))


def test_submit_hashes_adds_platform_items_to_the_feed(hub: RunningHub) -> None:
    key = hub.participant("Finder", tuple(Scope))
    api = _client(hub, key)
    api.submit_hash(StopNCIISignalType.ImagePDQ, PDQ_B)
    entries = hub.whole_feed(key)
    assert [(e["op"], e["value"]) for e in entries] == [("add", PDQ_B)]
    record = _everything(api)[(StopNCIISignalType.ImagePDQ, PDQ_B)]
    assert [f.feedbackValue for f in record.CSPFeedbacks] == [StopNCIICSPFeedbackValue.Blocked]
