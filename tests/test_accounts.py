"""Users of the UI and API: the users file, `hipaa-assistant users`, passwords and tokens."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from assistant.accounts import UserStore
from assistant.cli import main
from core.errors import ConfigError
from core.groups import parse_groups


def _cli(data: Path, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(data), "users", *args])


def test_users_command_adds_lists_and_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    pw = "correct horse battery\n"
    add_alice = ["add", "alice", "--groups", "staff", "--password-stdin"]
    assert _cli(data, monkeypatch, *add_alice, stdin=pw) == 0
    assert (
        _cli(
            data,
            monkeypatch,
            "add",
            "pat",
            "--groups",
            "Staff, privacy-office",
            "--password-stdin",
            stdin=pw,
        )
        == 0
    )
    capsys.readouterr()
    assert _cli(data, monkeypatch, "list") == 0
    listed = capsys.readouterr().out
    assert "alice\tstaff\t0 API token(s)" in listed
    assert "pat\tprivacy-office,staff\t0 API token(s)" in listed

    # a second add of the same name is refused; --update replaces the password
    assert _cli(data, monkeypatch, *add_alice, stdin=pw) == 2
    assert "exists" in capsys.readouterr().err
    users_file = data / "users.json"
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    stored = json.loads(users_file.read_text())
    assert stored["users"]["alice"]["password_hash"].startswith("$2")
    assert "correct horse" not in users_file.read_text()

    assert _cli(data, monkeypatch, "remove", "alice") == 0
    assert _cli(data, monkeypatch, "remove", "alice") == 2
    capsys.readouterr()
    _cli(data, monkeypatch, "list")
    assert "alice" not in capsys.readouterr().out


def test_bad_names_groups_and_passwords_are_refused(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json", bcrypt_rounds=4)
    with pytest.raises(ConfigError, match="at least 8"):
        store.add("bob", "short", ("staff",), replace=False)
    with pytest.raises(ConfigError, match="user name"):
        store.add("bob smith", "long enough", ("staff",), replace=False)
    with pytest.raises(ConfigError, match="group name"):
        parse_groups("staff,Legal Team")
    with pytest.raises(ConfigError, match="at least one group"):
        parse_groups(" , ")
    assert parse_groups("legal, staff,legal") == ("legal", "staff")


def test_passwords_and_tokens_authenticate(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json", bcrypt_rounds=4)
    store.add("pat", "s3cret-passphrase", ("privacy-office", "staff"), replace=False)
    account = store.authenticate("pat", "s3cret-passphrase")
    assert account is not None and account.groups == ("privacy-office", "staff")
    assert store.authenticate("pat", "wrong-passphrase") is None
    assert store.authenticate("nobody", "s3cret-passphrase") is None

    token = store.issue_token("pat")
    assert token.startswith("hat_") and len(token) > 40
    assert token not in (tmp_path / "users.json").read_text()  # only its hash is kept
    assert store.account_for_token(token) == account
    assert store.account_for_token(token + "x") is None
    assert store.account_for_token("not-a-token") is None
    # a password change keeps the tokens; revoking drops them
    store.add("pat", "another-passphrase", ("staff",), replace=True)
    changed = store.account_for_token(token)
    assert changed is not None and changed.groups == ("staff",)
    assert store.revoke_tokens("pat") == 1
    assert store.account_for_token(token) is None


def test_an_unknown_user_takes_as_long_to_refuse_as_a_wrong_password(tmp_path: Path) -> None:
    """No user names found by timing: the unknown name is checked against a hash of the same
    bcrypt cost as the users' own."""
    import time

    store = UserStore(tmp_path / "users.json", bcrypt_rounds=10)
    store.add("pat", "s3cret-passphrase", ("staff",), replace=False)

    def refusal_ms(name: str) -> float:
        started = time.perf_counter()
        assert store.authenticate(name, "wrong-passphrase") is None
        return (time.perf_counter() - started) * 1000

    refusal_ms("nobody")  # the dummy hash is made on first use
    # taken in turn, so a busy machine slows both alike; medians of 9
    pairs = [(refusal_ms("pat"), refusal_ms("nobody")) for _ in range(9)]
    wrong_password = sorted(p for p, _ in pairs)[4]
    unknown_user = sorted(u for _, u in pairs)[4]
    assert 0.5 < unknown_user / wrong_password < 2, (unknown_user, wrong_password)


def test_api_tokens_expire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.accounts import TokenError

    data = tmp_path / "data"
    add = ["add", "pat", "--groups", "staff", "--password-stdin"]
    assert _cli(data, monkeypatch, *add, stdin="s3cret-passphrase\n") == 0
    capsys.readouterr()
    assert _cli(data, monkeypatch, "token", "pat", "--days", "30") == 0
    out = capsys.readouterr()
    short = out.out.strip()
    assert "valid for 30 day(s)" in out.err
    assert _cli(data, monkeypatch, "token", "pat") == 0  # server.token_days: 90 by default
    out = capsys.readouterr()
    default = out.out.strip()
    assert "valid for 90 day(s)" in out.err
    assert _cli(data, monkeypatch, "token", "pat", "--days", "0") == 0
    forever = capsys.readouterr().out.strip()
    assert _cli(data, monkeypatch, "token", "pat", "--days", "-1") == 2

    users_file = data / "users.json"
    stored = json.loads(users_file.read_text())
    tokens = stored["users"]["pat"]["tokens"]
    assert [("expires" in t) for t in tokens] == [True, True, False]
    store = UserStore(users_file)
    assert all(store.account_for_token(t) is not None for t in (short, default, forever))

    # the 30-day token's date passes
    tokens[0]["expires"] = "2020-01-31T00:00:00+00:00"
    users_file.write_text(json.dumps(stored))
    assert store.account_for_token(short) is None
    with pytest.raises(TokenError, match="token expired on 2020-01-31"):
        store.account_for_authorization(f"Bearer {short}")
    assert store.account_for_authorization(f"Bearer {default}").name == "pat"
    assert store.list()[0][1] == 2  # valid tokens only
    capsys.readouterr()
    _cli(data, monkeypatch, "list")
    assert "pat\tstaff\t2 API token(s)" in capsys.readouterr().out
    # issuing the next token drops the expired one from the file
    store.issue_token("pat", 1)
    assert len(json.loads(users_file.read_text())["users"]["pat"]["tokens"]) == 3
