"""The non-root path for real: front ends run as an ordinary user and capture through
``sudo -n httptap-helper``, as README ("Running front ends without root: the helper") says.

The module's set-up (root) creates a system user with no password login, a sudoers rule that
allows that user exactly one program, the root-owned helper, and a home for its IPython
profile; it takes all of that away afterwards, also when a test fails. The tests start a
real client as that user (under sudo the helper traces only the caller's own processes),
then the CLI and an in-process IPython shell as that user, and check while they capture
that the front end holds no privilege: its uids are the user's, its capability sets are
empty, and the BPF programs live in a root descendant (the helper), never in it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from httptap.engine.helper_client import trusted_path
from tests.live.conftest import PROGS, Prog, bpf_programs

USER = "httptap-test"
SUDOERS = Path("/etc/sudoers.d") / USER  # sudo skips names with a dot: keep none
CHECKOUT = Path(__file__).resolve().parents[2]
PY = sys.executable  # the project's (root-owned) venv interpreter
ATTACHED = "attached to PID"


# -- the module's set-up: user, sudoers rule, root-owned helper -----------------------------------


@dataclass
class UnprivilegedUser:
    name: str
    uid: int
    gid: int
    home: Path
    helper: str
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` run as this user: setpriv execs it, so the pid is the program's own."""
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                *argv]

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(argv), env=self.env, cwd=self.home, text=True,
                              capture_output=True, timeout=timeout, check=False,
                              start_new_session=True)


def _need_tools() -> None:
    missing = [t for t in ("sudo", "visudo", "useradd", "userdel", "setpriv")
               if shutil.which(t) is None]
    if missing:
        where = "CI" if os.environ.get("CI") else "this machine"
        pytest.fail(
            f"{' and '.join(missing)} not installed on {where}: the non-root tests need sudo "
            "(scripts/install-system.sh must install the `sudo` package; `make install`)",
            pytrace=False,
        )


def _root_only(path: Path) -> bool:
    """``path``, each folder above it and (for a folder) everything in it: root's alone."""
    def ok(p: Path) -> bool:
        st = p.lstat()
        return st.st_uid == 0 and not (
            not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))

    try:
        if not all(ok(p) for p in [path, *path.parents]):
            return False
        if path.is_dir():
            for top, dirs, files in os.walk(path):
                if not all(ok(Path(top, n)) for n in dirs + files):
                    return False
    except OSError:
        return False
    return True


def _helper(undo: list[Callable[[], None]]) -> str:
    """The helper the sudoers rule names, as README asks: root-owned, in a venv no user writes.

    The project's venv is one when it and the checkout its editable install runs are root's
    alone (CI); then its ``bin/httptap-helper`` is used as is. Otherwise a root-owned wrapper
    in a root-owned folder runs the same code (the mechanism is the same; the code is then
    only as safe as the checkout, which is acceptable for a test and said here).
    """
    import httptap

    venv_helper = Path(sys.prefix, "bin", "httptap-helper")
    code = Path(httptap.__file__).resolve().parent
    if (venv_helper.is_file() and trusted_path(str(venv_helper))
            and _root_only(Path(sys.prefix)) and _root_only(code)):
        return str(venv_helper)
    folder = Path(tempfile.mkdtemp(prefix="httptap-helper-"))
    undo.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.chmod(folder, 0o755)
    wrapper = folder / "httptap-helper"
    wrapper.write_text(f'#!/bin/sh\nexec {PY} -m httptap.engine.helper_main "$@"\n')
    os.chmod(wrapper, 0o755)
    assert trusted_path(str(wrapper)), wrapper
    return str(wrapper)


def _let_others_traverse(paths: list[Path], undo: list[Callable[[], None]]) -> None:
    """Add o+x to folders above ``paths`` that lack it (restored afterwards); usually none."""
    seen: set[Path] = set()
    for path in paths:
        for folder in [path, *path.parents]:
            if folder in seen or not folder.is_dir():
                continue
            seen.add(folder)
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, mode | stat.S_IXOTH)
                undo.append(lambda f=folder, m=mode: os.chmod(f, stat.S_IMODE(m)))


def _remove_user(name: str) -> None:
    for _ in range(20):  # processes of the user still exiting make userdel refuse
        if subprocess.run(["userdel", name], capture_output=True, check=False).returncode in (0, 6):
            return
        time.sleep(0.1)
    subprocess.run(["userdel", "--force", name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def user() -> Iterator[UnprivilegedUser]:
    _need_tools()
    undo: list[Callable[[], None]] = []
    try:
        try:
            pwd.getpwnam(USER)  # left over from an interrupted run: reuse it
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", USER], check=True, capture_output=True)
        undo.append(lambda: _remove_user(USER))
        pw = pwd.getpwnam(USER)
        subprocess.run(["passwd", "--lock", USER], check=False, capture_output=True)

        helper = _helper(undo)
        rule = Path(tempfile.mkdtemp(prefix="httptap-sudoers-")) / "rule"
        undo.append(lambda: shutil.rmtree(rule.parent, ignore_errors=True))
        rule.write_text(f"{USER} ALL=(root) NOPASSWD: {helper}\n")
        check = subprocess.run(["visudo", "-cf", str(rule)], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        undo.append(lambda: SUDOERS.unlink(missing_ok=True))
        shutil.copyfile(rule, SUDOERS)
        os.chmod(SUDOERS, 0o440)

        home = Path(tempfile.mkdtemp(prefix="httptap-test-home-"))
        undo.append(lambda: shutil.rmtree(home, ignore_errors=True))
        os.chown(home, pw.pw_uid, pw.pw_gid)
        _let_others_traverse([CHECKOUT, Path(sys.prefix), Path(PY).resolve().parent], undo)

        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "USER": USER,
            "LOGNAME": USER,
            "LANG": "C.UTF-8",
            "HTTPTAP_HELPER": helper,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        u = UnprivilegedUser(USER, pw.pw_uid, pw.pw_gid, home, helper, env)
        # the user can read the checkout and the venv, and sudo grants it nothing else
        probe = u.run([PY, "-c", "import httptap.cli, httptap.ipython_ext, IPython; "
                       f"open({str(PROGS / 'client.py')!r}).read()"])
        assert probe.returncode == 0, (
            f"{USER} cannot read the checkout or the venv:\n{probe.stderr}")
        other = u.run(["sudo", "-n", "/usr/bin/id"])
        assert other.returncode != 0, "the sudoers rule must allow the helper only"
        yield u
    finally:
        for step in reversed(undo):
            step()
    assert not SUDOERS.exists()


# -- processes run as the user --------------------------------------------------------------------


class UserProg(Prog):
    """A program run as the test user; 'ready' / 'go' / 'done' as in conftest.Prog."""

    def __init__(self, user: UnprivilegedUser, argv: list[str], stderr: Any = None) -> None:
        self.proc = subprocess.Popen(
            user.argv(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True, env=user.env, cwd=user.home, start_new_session=True,
        )
        self.pid = self.proc.pid


@pytest.fixture
def as_user(user: UnprivilegedUser) -> Iterator[Callable[..., UserProg]]:
    started: list[UserProg] = []

    def start(argv: list[str], stderr: Any = None) -> UserProg:
        p = UserProg(user, argv, stderr)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()


def _status(pid: int) -> dict[str, list[str]]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.split() for k, _, v in (ln.partition(":") for ln in lines)}


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int(_status(int(d.name))["PPid"][0])
            except (OSError, KeyError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [c for c, p in parents.items() if p == parent]
        out += kids
        todo += kids
    return out


def _assert_unprivileged_front_end(pid: int, user: UnprivilegedUser) -> list[int]:
    """``pid`` runs as ``user`` with no capability and no BPF program; the capture is held by
    a root helper that sudo started below it. Returns the privileged descendants."""
    st = _status(pid)
    assert st["Uid"] == [str(user.uid)] * 4, st["Uid"]  # real, effective, saved, filesystem
    assert st["Gid"] == [str(user.gid)] * 4, st["Gid"]
    for caps in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[caps][0], 16) == 0, (caps, st[caps])
    assert bpf_programs(pid) == set(), "the front end must hold no BPF program"
    below = _descendants(pid)
    assert any(_status(c)["Name"] == ["sudo"] for c in below), "no sudo below the front end"
    helpers = [c for c in below if _status(c)["Uid"][1] == "0" and bpf_programs(c)]
    assert helpers, "no root helper holding the BPF programs below the front end"
    return below


def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if Path(f"/proc/{p}").exists()]
    assert not left, f"privileged processes left behind: {left}"


def _wait_for_text(path: Path, text: str, proc: UserProg, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = path.read_text()
        if text in got or proc.proc.poll() is not None:
            break
        time.sleep(0.1)
    assert text in got, f"expected {text!r}; the front end wrote:\n{got}"
    return got


# -- the tests ------------------------------------------------------------------------------------


def test_cli_as_user_captures_through_the_helper(
    user: UnprivilegedUser, as_user: Callable[..., UserProg], http_server: int
) -> None:
    client = as_user([PY, str(PROGS / "client.py"), str(http_server), "5", "/size/4"])
    client.expect("ready")
    assert _status(client.pid)["Uid"][0] == str(user.uid)

    # someone else's process (here root's, this pytest): the helper refuses before attaching
    refused = user.run([PY, "-m", "httptap.cli", "--pid", str(os.getpid()), "--jsonl"])
    assert refused.returncode != 0 and refused.stdout == ""
    assert f"process {os.getpid()} belongs to another user (uid 0)" in refused.stderr
    assert "trace your own processes, or run httptap as root" in refused.stderr

    err_path = user.home / "cli.err"
    with err_path.open("w") as err:
        cli = as_user([PY, "-m", "httptap.cli", "--pid", str(client.pid), "--jsonl",
                       "--count", "5"], stderr=err)
    _wait_for_text(err_path, ATTACHED, cli)
    below = _assert_unprivileged_front_end(cli.pid, user)
    client.go()
    client.expect("done")
    out, _ = cli.proc.communicate(timeout=30)
    assert cli.proc.returncode == 0, err_path.read_text()
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert [d["path"] for d in lines] == [f"/size/4?i={i}" for i in range(5)]
    assert all(d["pid"] == client.pid and d["status"] == 200 for d in lines)
    assert all(d["response"]["body"] == "xxxx" for d in lines)
    assert ["Authorization", "Bearer ****"] in lines[0]["request"]["headers"]  # masked by it
    assert "5 exchange(s) shown" in err_path.read_text()
    _wait_gone(below)  # sudo and the helper end with the front end


_SHELL_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from IPython.core.interactiveshell import InteractiveShell

    def say(**kw):
        print("@@", json.dumps(kw), flush=True)

    pid, others = int(sys.argv[1]), int(sys.argv[2])
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "httptap")
    try:
        ip.run_line_magic("httptap", f"{others} --background")
        say(refused=None)
    except Exception as exc:
        say(refused=type(exc).__name__, message=exc.message, remedy=exc.remedy)
    result = ip.run_cell(f"cap = %httptap {pid} --background")
    cap = ip.user_ns.get("cap")
    say(attached=result.success and cap is not None and cap.running,
        error=repr(result.error_in_exec))
    sys.stdin.readline()  # the test checks this process, then lets the client go
    got = cap.wait_for(5, timeout=30)
    say(paths=[e.request.path for e in got], pids=[e.connection.pid for e in got],
        statuses=[e.status for e in got], bodies=[e.response.body.data.decode() for e in got],
        auth=got[0].request.header("authorization") if got else None)
    cap.stop()
    say(running=cap.running)
""")


def test_ipython_as_user_captures_through_the_helper(
    user: UnprivilegedUser, as_user: Callable[..., UserProg], http_server: int
) -> None:
    client = as_user([PY, str(PROGS / "client.py"), str(http_server), "5", "/size/6"])
    client.expect("ready")
    script = user.home / "shell.py"
    script.write_text(_SHELL_SCRIPT)

    shell = as_user([PY, str(script), str(client.pid), str(os.getpid())],
                    stderr=subprocess.STDOUT)

    def said(timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = shell.readline(max(0.1, deadline - time.monotonic()))
            if line.startswith("@@ "):
                return json.loads(line[3:])
            seen.append(line)
            if not line and shell.proc.poll() is not None:
                break
        raise AssertionError("the IPython script said:\n" + "\n".join(seen))

    refused = said()
    assert refused["refused"] == "AttachError", refused
    assert refused["message"] == (
        f"httptap-helper: process {os.getpid()} belongs to another user (uid 0)")
    assert refused["remedy"] == "trace your own processes, or run httptap as root"

    attached = said()
    assert attached["attached"] is True, attached
    below = _assert_unprivileged_front_end(shell.pid, user)
    client.go()
    client.expect("done")
    shell.go("")
    got = said()
    assert got["paths"] == [f"/size/6?i={i}" for i in range(5)], got
    assert got["pids"] == [client.pid] * 5
    assert got["statuses"] == [200] * 5 and got["bodies"] == ["xxxxxx"] * 5
    assert got["auth"] == "Bearer ****"
    assert said() == {"running": False}
    _wait_gone(below)  # stop() closed the helper's stdin: sudo and the helper are gone
    shell.proc.wait(30)
    assert shell.proc.returncode == 0
