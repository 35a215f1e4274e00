"""`onewindow users`: console passwords from stdin (never argv), passwd, list, token, revoke."""
from __future__ import annotations

from api.app import create_app
from engine.services import users


def test_users_commands(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()

    def cli(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(args=list(args), input=stdin)

    made = cli("users", "create", "wang", "--role", "staff", "--department", "county.fgj", "--password",
               stdin="first password 1\n")
    assert made.exit_code == 0 and made.output.strip().startswith("ow_")
    assert cli("users", "create", "li", "--role", "agent", "--password", "on the command line").exit_code != 0
    short = cli("users", "create", "zhao", "--role", "agent", "--password", stdin="short\n")
    assert short.exit_code == 1 and "password" in short.output
    with runtime.unit_of_work() as uow:
        assert users.sign_in(uow, "wang", "first password 1").actor.department == "county.fgj"
        uow.commit()
    assert cli("users", "passwd", "wang", stdin="second password 2\n").exit_code == 0
    with runtime.unit_of_work() as uow:
        assert users.sign_in(uow, "wang", "second password 2")
    old_token = made.output.strip()
    new_token = cli("users", "token", "wang").output.strip()
    assert new_token.startswith("ow_") and new_token != old_token
    with runtime.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, old_token) is None and users.authenticate(uow, new_token).name == "wang"
    assert cli("users", "revoke", "wang").exit_code == 0
    listed = cli("users", "list").output
    assert "wang" in listed and "revoked" in listed and "password" in listed
    assert cli("users", "passwd", "ghost", stdin="whatever pass 1\n").exit_code == 1
    assert cli("users", "token", "ghost").exit_code == 1
