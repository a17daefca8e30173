"""A file that is not a policy is refused without being printed back (issue 10, section 8):
`policy validate /etc/shadow` must not show the hashes, and no error about any file shows
more than a 40-character excerpt of a value or key from it."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changeproof.policy.errors import PolicyError, excerpt
from changeproof.policy.loader import load_policy

SHADOW = (
    "root:$6$Xq2LbAoE$7c0bC3pZ1fS9yq3PSxh8mWnQ0dJvKf2HcYt5uR4eLgN:19000:0:99999:7:::\n"
    "alice:$6$ZZ9yxWvU$Hk4nB2cD1eF0gH9iJ8kL7mN6oP5qR4sT3uV2wX1yZ0a:19000:0:99999:7:::\n"
)


def _refusal(data: bytes) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policy(data, "file")
    error = caught.value
    return "\n".join([error.message, error.hint() or "", *(str(p) for p in error.problems)])


def test_a_password_file_is_refused_without_its_contents() -> None:
    said = _refusal(SHADOW.encode())
    assert "this is not a changeproof policy" in said
    assert "$6$" not in said
    assert "root" not in said
    assert "alice" not in said


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (json.dumps(["s3cr3t-one", "s3cr3t-two"]).encode(), "not a list"),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe s3cr3t", "not UTF-8 text"),
        (b"PGDMP\x00\x01s3cr3t", "unacceptable character"),
        (json.dumps({"password": "s3cr3t", "user": "db"}).encode(), "not a changeproof policy"),
    ],
    ids=["json-list", "binary", "nul-bytes", "json-object"],
)
def test_other_files_are_refused_without_their_contents(data: bytes, words: str) -> None:
    said = _refusal(data)
    assert words in said
    assert "s3cr3t" not in said


@pytest.mark.parametrize(
    "text",
    [
        "version: {long}\nenvironments: {{p: {{controls: [ticket-reference]}}}}\n",
        "version: 1\nenvironments: {{p: {{controls: [ticket-reference]}}}}\n{long}: 1\n",
        "version: !!int {long}\n",
        "version: 1.{digits}\n",
        "version: {digits}\n",
        "version: 1\nversion: 1\nenvironments:\n  {long}: {{controls: [x]}}\n  {long}: {{}}\n",
        "version: !{long} 1\n",
        "version: &{long} 1\n",
        "version: 1\nenvironments: {{p: {{controls: [{long}]}}}}\n",
        "version: 1\nhigh_risk: [{{name: a, paths: ['/{long}'], experts: x}}]\n"
        "environments: {{p: {{controls: [ticket-reference]}}}}\n",
    ],
    ids=[
        "value",
        "key",
        "bad-int",
        "fraction",
        "huge-int",
        "duplicate",
        "tag",
        "anchor",
        "control",
        "glob",
    ],
)
def test_a_value_or_key_from_the_file_is_shown_as_a_40_character_excerpt(text: str) -> None:
    long, digits = "S" * 41 + "ecret" * 20, "9" * 200
    said = _refusal(text.format(long=long, digits=digits).encode())
    assert long[:41] not in said
    assert digits[:41] not in said


def test_excerpt_keeps_40_characters_and_says_it_cut() -> None:
    assert excerpt("x" * 40) == "x" * 40
    assert excerpt("x" * 41) == "x" * 40 + "…"


_WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=41, max_size=120)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(_WORD, min_size=1, max_size=4, unique=True),
    values=st.lists(_WORD, min_size=1, max_size=4),
    known=st.booleans(),
)
def test_no_error_prints_more_than_an_excerpt_of_the_file(
    keys: list[str], values: list[str], known: bool
) -> None:
    """Whatever long keys and values a file holds, beside a policy's keys or not, no 41
    characters of any of them appear in what the error says."""
    lines = ["version: 1", "environments: {p: {controls: [ticket-reference]}}"] if known else []
    lines += [f"{k}: {values[n % len(values)]}" for n, k in enumerate(keys)]
    lines += [f"tickets: {values[0]}", f"rules: {values[-1]}"] if known else []
    said = _refusal("\n".join(lines).encode())
    for word in (*keys, *values):
        assert word[:41] not in said
