"""An RFC as a Jira issue: v2 wiki markup, v3 Atlassian Document Format, update bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from changeproof.domain.errors import InputError
from changeproof.reports.jira import (
    DESCRIPTION_BUDGET,
    SUMMARY_MAX,
    adf_document,
    issue_create_body,
    issue_labels,
    issue_update_body,
    label_jql,
    wiki_markup,
    with_fields,
)
from changeproof.reports.ticket_outline import Bullets, Paragraph, Preformatted, Run, Section
from tests.unit.reports.ticket_samples import adf_problems, rfc


def _body(**options: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(issue_create_body(rfc(), **options)))
    return body


def test_the_v2_create_body() -> None:
    fields = _body(project="PAY", api_version=2)["fields"]
    assert set(fields) == {"project", "issuetype", "summary", "description", "labels"}
    assert fields["project"] == {"key": "PAY"}
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "CHG-57: Deploy payments/1.4.0 to production"
    assert fields["labels"] == ["changeproof", "changeproof-CHG-57"]
    description = fields["description"]
    assert isinstance(description, str)
    assert description.startswith(
        "h3. Change\n\nchangeproof change CHG\\-57: [https://changeproof.example.com/changes/"
        "CHG\\-57|https://changeproof.example.com/changes/CHG-57]"
    )
    for expected in (
        "h3. Why\n\n* [PAY\\-12|https://jira.example.com/browse/PAY-12] (jira)",
        # Markup in a commit subject stays text.
        "* {{0123456789ab}} Round \\*half\\* to even in \\[ledger\\] (ana@example.com)",
        "h3. Implementation plan\n\n1. deploy the canary\n2. watch the dashboards",
        "h3. Dry run\n\n{noformat}\n3 resources to change\n{noformat}",
        "* \\#9 blocked as normal; failed: change\\-approval (no approval yet)",
    ):
        assert expected in description


def test_the_v3_create_body_is_a_valid_adf_document() -> None:
    fields = _body(project="PAY", issue_type="Change", api_version=3)["fields"]
    assert fields["issuetype"] == {"name": "Change"}
    description = fields["description"]
    assert adf_problems(description) == []
    headings = [
        node["content"][0]["text"] for node in description["content"] if node["type"] == "heading"
    ]
    assert headings == [
        "Change",
        "Why",
        "Risk",
        "What",
        "Implementation plan",
        "Schedule",
        "Rollback",
        "Evidence",
        "Gate decisions",
        "Dry run",
    ]
    why = description["content"][headings_index(description, "Why") + 1]
    assert why == {
        "type": "bulletList",
        "content": [
            {
                "type": "listItem",
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {
                                "type": "text",
                                "text": "PAY-12",
                                "marks": [
                                    {
                                        "type": "link",
                                        "attrs": {"href": "https://jira.example.com/browse/PAY-12"},
                                    }
                                ],
                            },
                            {"type": "text", "text": " (jira)"},
                        ],
                    }
                ],
            }
        ],
    }
    plan = description["content"][headings_index(description, "Implementation plan") + 1]
    assert plan == {
        "type": "paragraph",
        "content": [
            {"type": "text", "text": "1. deploy the canary"},
            {"type": "hardBreak"},
            {"type": "text", "text": "2. watch the dashboards"},
        ],
    }
    assert description["content"][-1] == {
        "type": "codeBlock",
        "content": [{"type": "text", "text": "3 resources to change"}],
    }


def headings_index(document: dict[str, Any], title: str) -> int:
    for i, node in enumerate(document["content"]):
        if node["type"] == "heading" and node["content"][0]["text"] == title:
            return i
    raise AssertionError(f"no heading {title}")


def test_only_web_urls_become_links() -> None:
    tickets = [{"key": "X-1", "url": "javascript:alert(1)"}, {"key": "X-2", "url": "file:///etc"}]
    body = issue_create_body(rfc(why={"tickets": tickets}), project="PAY")
    assert "javascript" not in json.dumps(body)
    assert "file://" not in json.dumps(body)
    v2 = issue_create_body(rfc(why={"tickets": tickets}), project="PAY", api_version=2)
    assert "* X\\-1\n* X\\-2" in json.loads(json.dumps(v2))["fields"]["description"]


def test_the_update_body_adds_labels_and_leaves_project_and_type() -> None:
    for version in (2, 3):
        body: dict[str, Any] = json.loads(json.dumps(issue_update_body(rfc(), api_version=version)))
        assert set(body) == {"fields", "update"}
        assert set(body["fields"]) == {"summary", "description"}
        assert body["update"] == {"labels": [{"add": "changeproof"}, {"add": "changeproof-CHG-57"}]}


def test_labels_and_jql() -> None:
    assert issue_labels("CHG-57", source="cp-eu") == ("cp-eu", "cp-eu-CHG-57")
    assert label_jql("PAY", "CHG-57") == 'project = "PAY" AND labels = "changeproof-CHG-57"'


@pytest.mark.parametrize("project", ["", "PAY-1", 'PAY" OR 1=1', "1PAY"])
def test_a_project_key_that_is_not_one_is_refused(project: str) -> None:
    with pytest.raises(InputError, match="is not a project key"):
        issue_create_body(rfc(), project=project)


def test_an_api_version_that_is_not_2_or_3_is_refused() -> None:
    with pytest.raises(InputError, match="version 4 is not 2 or 3"):
        issue_create_body(rfc(), project="PAY", api_version=4)


def test_the_summary_is_one_line_cut_to_jira_s_limit() -> None:
    fields = issue_create_body(rfc(title="y\n" * 400), project="PAY")["fields"]
    assert isinstance(fields, dict)
    summary = fields["summary"]
    assert isinstance(summary, str)
    assert len(summary) == SUMMARY_MAX
    assert "\n" not in summary


_SECTIONS = [
    Section("One", (Paragraph((Run("a" * 50),)),)),
    Section("Two", (Bullets(((Run("b" * 50),), (Run("c" * 50),))), Preformatted("p" * 50))),
]
_CUT = Paragraph((Run("[cut]"),))


def test_wiki_markup_is_cut_at_whole_blocks() -> None:
    whole = wiki_markup(_SECTIONS, _CUT)
    assert "[cut]" not in whole
    cut = wiki_markup(_SECTIONS, _CUT, budget=len(whole) - 1)
    assert len(cut) <= len(whole) - 1
    assert cut.endswith("\\[cut\\]")
    assert "{noformat}" not in cut  # the preformatted block is left out, never half-closed


def test_adf_is_cut_at_whole_blocks() -> None:
    whole = adf_document(_SECTIONS, _CUT)
    size = len(json.dumps(whole["content"], separators=(",", ":")))
    cut = adf_document(_SECTIONS, _CUT, budget=size - 60)
    content = cut["content"]
    assert isinstance(content, list)
    assert content[-1] == {"type": "paragraph", "content": [{"type": "text", "text": "[cut]"}]}
    assert adf_problems(cut) == []


def test_noformat_in_a_dry_run_cannot_close_the_block() -> None:
    body = issue_create_body(
        rfc(dry_run_output="a\n{noformat}\nh1. not a heading"), project="PAY", api_version=2
    )
    description = json.loads(json.dumps(body))["fields"]["description"]
    assert description.endswith("{noformat}\na\n{ noformat}\nh1. not a heading\n{noformat}")


def test_the_description_fits_jira_whatever_the_rfc_holds() -> None:
    many = rfc(
        what={
            "commits": [{"sha": f"{i:040x}", "subject": "s" * 300} for i in range(60)],
            "paths": [{"path": "p" * 300, "high_risk": ["x"]} for _ in range(60)],
        },
        why={"tickets": [{"key": "K" * 300, "url": "https://e.com/" + "u" * 1900}] * 60},
        plan="plan " * 2000,
        rollback="back " * 2000,
        dry_run_output="out " * 2000,
    )
    v2 = json.loads(json.dumps(issue_create_body(many, project="PAY", api_version=2)))
    assert len(v2["fields"]["description"]) <= DESCRIPTION_BUDGET
    assert v2["fields"]["description"].endswith(
        "\\[Cut to fit Jira's description limit. The whole change request: "
        "[https://changeproof.example.com/changes/CHG\\-57|https://changeproof.example.com/"
        "changes/CHG-57]\\]"
    )
    v3 = json.loads(json.dumps(issue_create_body(many, project="PAY", api_version=3)))
    assert len(json.dumps(v3["fields"]["description"])) <= DESCRIPTION_BUDGET + 100
    assert adf_problems(v3["fields"]["description"]) == []


def test_extra_fields_are_added_but_cannot_replace_mapped_ones() -> None:
    body = issue_create_body(rfc(), project="PAY")
    extended = with_fields(body, {"components": [{"name": "payments"}]})
    fields = extended["fields"]
    assert isinstance(fields, dict)
    assert fields["components"] == [{"name": "payments"}]
    for taken in ("summary", "labels", "project"):
        with pytest.raises(InputError, match=f"may not set {taken}"):
            with_fields(body, {taken: "x"})
    update = issue_update_body(rfc())
    with pytest.raises(InputError, match="may not set labels"):
        with_fields(update, {"labels": ["x"]})
