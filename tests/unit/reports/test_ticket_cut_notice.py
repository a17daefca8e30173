"""Where a ticket's text is cut, it says where to read the whole RFC: its URL when the
instance has one for it, else the change's name and the digest that identifies its RFC."""

from __future__ import annotations

from changeproof.reports.ticket_content import read_change
from changeproof.reports.ticket_outline import cut_notice
from tests.unit.reports.ticket_samples import rfc


def _text(document: dict[str, object]) -> str:
    return "".join(run.text for run in cut_notice(read_change(document), "4,000 characters").runs)


def test_the_notice_links_to_the_rfc_when_it_has_a_url() -> None:
    said = _text(rfc())
    assert "https://changeproof.example.com/changes/CHG-57" in said


def test_without_a_url_the_notice_names_the_change_and_its_digest() -> None:
    document = rfc()
    del document["url"]
    said = _text(document)
    assert "changeproof change CHG-57" in said
    assert f"sha256:{'12' * 32}" in said
