"""`onewindow serve`: gunicorn run in-process, with the timer worker as its child.

Why in-process rather than exec'ing the gunicorn command: the worker must live exactly as long
as the server. It is started only once gunicorn has bound its port (`when_ready`), so a port in
use leaves nothing behind; it is stopped when gunicorn exits (`on_exit`, also after SIGTERM or
SIGINT); and it dies with the server even when the server is killed outright (the kernel sends
it SIGTERM through PR_SET_PDEATHSIG). Each server runs without gunicorn's control socket, which
by default is one shared path (~/.gunicorn/gunicorn.ctl) that two servers would fight over.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: on_exit still stops the worker
        pass


class TimerWorker:
    """The `onewindow worker` child of one server."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=self.env,
                                        preexec_fn=_die_with_parent)

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Server(BaseApplication):
    """gunicorn serving `api.wsgi:app` with our options and, optionally, a timer worker."""

    def __init__(self, bind: str, workers: int, env: dict[str, str], with_worker: bool) -> None:
        self.options = {"bind": bind, "workers": workers, "accesslog": "-",
                        "control_socket_disable": True}
        self.timer_worker = TimerWorker(env) if with_worker else None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)
        if self.timer_worker is not None:
            worker = self.timer_worker
            self.cfg.set("when_ready", lambda arbiter: worker.start())
            self.cfg.set("on_exit", lambda arbiter: worker.stop())

    def load(self) -> Any:
        # by name, in each gunicorn worker, as `gunicorn api.wsgi:app` does (api.wsgi builds the
        # app, whose CLI commands start this server)
        return util.import_app("api.wsgi:app")


def serve(host: str, port: int, workers: int, env: dict[str, str], with_worker: bool) -> None:
    """Run until gunicorn stops; exits the process with gunicorn's status."""
    os.environ.update(env)  # gunicorn workers are forks: they read DATABASE_URL from here
    sys.argv = [sys.argv[0]]  # gunicorn parses argv for its own options: give it none
    Server(f"{host}:{port}", workers, env, with_worker).run()
