"""`[hooks.<source>]` in config.toml: what configures a webhook source, what is refused and
how it is said (naming the key, never the secret)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from changeproof.domain.errors import ConfigError
from changeproof.domain.hooks import HookSource
from changeproof.services.hook_config import load_hook_config, secret_variable

KEY = b"0123456789abcdef0123456789abcdef"
WHSEC = "whsec_" + base64.b64encode(KEY).decode()


def _home(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.toml").write_text('[instance]\norigin = "x"\n' + text)
    return tmp_path


def test_no_hooks_table_configures_no_source(tmp_path: Path) -> None:
    config = load_hook_config(_home(tmp_path, ""), {})
    assert all(config.of(source) is None for source in HookSource)


def test_secret_files_hold_one_secret_a_line_and_the_variable_overrides(tmp_path: Path) -> None:
    (tmp_path / "gh").write_text("first\n\nsecond\n")
    (tmp_path / "std").write_text(WHSEC + "\n")
    home = _home(
        tmp_path,
        '[hooks.github]\nactor = "ci"\nsecret_file = "gh"\n'
        '[hooks.standard]\nactor = "ci"\nsecret_file = "std"\n',
    )
    config = load_hook_config(home, {})
    github = config.of(HookSource.GITHUB)
    assert github is not None
    assert github.secrets == (b"first", b"second")
    assert "first" not in repr(github)
    standard = config.of(HookSource.STANDARD)
    assert standard is not None
    assert standard.secrets == (KEY,)
    overridden = load_hook_config(home, {secret_variable(HookSource.GITHUB): "from-env"})
    assert overridden.of(HookSource.GITHUB).secrets == (b"from-env",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "env", "words"),
    [
        ('[hooks.bitbucket]\nactor = "ci"\n', {}, "[hooks.bitbucket] is no webhook source"),
        ('[hooks.github]\nactor = "ci"\nsecret = "x"\n', {}, "no setting 'secret'"),
        ('[hooks.github]\nsecret_file = "gh"\n', {}, "actor must name the pipeline identity"),
        ('[hooks.github]\nactor = "ci"\n', {}, "needs secret_file"),
        ('[hooks.github]\nactor = "ci"\nsecret_file = "nowhere"\n', {}, "cannot read"),
        ('[hooks.standard]\nactor = "ci"\nsecret_file = "gh"\n', {}, "not a Standard Webhooks"),
        ("", {"CHANGEPROOF_HOOKS_GITLAB_SECRET": "tok"}, "has no [hooks.gitlab] table"),
    ],
)
def test_a_hooks_table_in_error_is_refused_naming_the_key(
    tmp_path: Path, text: str, env: dict[str, str], words: str
) -> None:
    (tmp_path / "gh").write_text("the-github-secret\n")
    with pytest.raises(ConfigError) as caught:
        load_hook_config(_home(tmp_path, text), env)
    assert words in caught.value.message
    assert "the-github-secret" not in caught.value.message
