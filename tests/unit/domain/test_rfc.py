"""The RFC as typed documents: one codec to the canonical JSON its digest covers."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.domain.rfc import (
    ApprovalSummary,
    Rfc,
    RfcApproval,
    RfcDocument,
    RfcExport,
    RfcReview,
    content_digest,
)
from tests.unit.domain.rfc_samples import SHA, sample_rfc


def _document(rfc: Rfc) -> RfcDocument:
    return RfcDocument.of(
        rfc,
        id="CHG-3",
        digest=rfc.content_digest(),
        state="pending-approval",
        approvals=(RfcApproval(5, "alan", "approved", "d1", None, "t", False),),
        approval_status=ApprovalSummary(False, ("1 more approval from role approver",), (), ()),
        review=RfcReview(None, False, None, None, None, None),
        exports=(RfcExport("jira", "10001", "PAY-99", None),),
    )


def test_an_rfc_reads_back_from_its_data_to_the_same_json() -> None:
    rfc = sample_rfc()
    data = rfc.to_data()
    again = Rfc.from_data(json.loads(json.dumps(data)))
    assert again == rfc
    assert again.to_data() == data


def test_the_range_keeps_its_from_key() -> None:
    what = sample_rfc().to_data()["what"]
    assert isinstance(what, dict)
    assert what["range"] == {
        "from": None,
        "to": SHA,
        "repository": "https://git.example.com/payments.git",
    }


def test_the_digest_covers_the_content_and_nothing_a_change_gains_later() -> None:
    rfc = sample_rfc()
    document = _document(rfc)
    shown = document.to_data()
    assert next(iter(shown)) == "id"
    assert list(shown)[-6:] == [
        "digest",
        "state",
        "approvals",
        "approval_status",
        "review",
        "exports",
    ]
    assert content_digest(shown) == rfc.content_digest() == document.content_digest()
    assert content_digest(rfc.to_data()) == rfc.content_digest()
    assert replace(rfc, plan="helm upgrade --force").content_digest() != rfc.content_digest()
    assert RfcDocument.from_data(shown) == document


def test_every_key_is_written_null_when_there_is_nothing_to_say() -> None:
    data = sample_rfc(approval_rule=None, schedule=None, plan=None).to_data()
    assert (data["approval_rule"], data["schedule"], data["plan"]) == (None, None, None)
    assert Rfc.from_data(data).to_data() == data


@pytest.mark.parametrize(
    ("pointer", "value", "field"),
    [
        (("as_of_seq",), "12", "as_of_seq"),
        (("urgent",), 0, "urgent"),
        (("classification",), "whenever", "classification"),
        (("what", "range", "from_"), None, "what/range/from_"),
        (("risk", "score"), 3, "risk/score"),
    ],
)
def test_a_document_it_did_not_write_is_an_input_error_naming_the_field(
    pointer: tuple[str, ...], value: JsonValue, field: str
) -> None:
    data = sample_rfc().to_data()
    target: dict[str, JsonValue] = data
    for key in pointer[:-1]:
        inner = target[key]
        assert isinstance(inner, dict)
        target = inner
    target[pointer[-1]] = value
    with pytest.raises(InputError, match=f"change_revisions row 4: Rfc field '{field}"):
        Rfc.from_data(data, where="change_revisions row 4")
