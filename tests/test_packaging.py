"""A built wheel is the whole product: installed into a fresh venv outside the checkout, it
migrates a database, deploys its shipped processes and serves, with no checkout to lean on."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from engine import __version__
from engine.config import REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with only the wheel installed; its dependencies come from this test venv's
    site-packages through a .pth path line (no network; the editable checkout is not on it)."""
    root = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(root / "dist"), str(REPO_ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = (root / "dist").glob("onewindow-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    return venv


def _run(venv: Path, cwd: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{cwd / 'site.db'}"
    return subprocess.run([str(venv / "bin" / "onewindow"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_the_wheel_carries_migrations_forms_and_processes(installed):
    [wheel] = installed.parent.joinpath("dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("engine/shipped/migrations/env.py", "engine/shipped/forms/registration.json",
                    "engine/shipped/processes/one_window_agency.bpmn",
                    "engine/shipped/processes/organisation.json"):
        assert shipped in names
    assert not any("__pycache__" in name for name in names)


def test_installed_onewindow_upgrades_deploys_and_serves_outside_the_checkout(installed, tmp_path):
    version = _run(installed, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"onewindow {__version__}"
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import engine; print(engine.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert str(REPO_ROOT) not in where.stdout and str(installed) in where.stdout

    upgraded = _run(installed, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    shipped = installed.glob("lib/python*/site-packages/engine/shipped/processes")
    [processes] = list(shipped)
    deployed = _run(installed, tmp_path, "deploy", str(processes))
    assert deployed.returncode == 0, deployed.stderr
    assert "one_window_agency v1 deployed" in deployed.stdout

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.db'}"
    log = (tmp_path / "serve.log").open("w+b")
    server = subprocess.Popen([str(installed / "bin" / "onewindow"), "serve", "--port", str(port),
                               "--workers", "1"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                if health.status_code == 200:
                    break
            except requests.RequestException:
                pass
            log.seek(0)
            assert server.poll() is None and time.monotonic() < deadline, log.read().decode()[-2000:]
            time.sleep(0.3)
        progress = requests.get(f"http://127.0.0.1:{port}/progress", timeout=5)
        assert progress.status_code == 200  # templates ship too
    finally:
        server.terminate()
        server.wait(timeout=30)
