"""A throwaway PostgreSQL cluster for the tests: temp dir, loopback port, no mocks.

``initdb`` refuses to run as root (as tests do here and in CI), so as root the cluster
belongs to the unprivileged ``postgres`` user the Debian package creates (or a
``nooverfit-pg`` user made for the purpose). Import ``postgres_url`` into a test module;
``bench/tune_scale.py`` uses :func:`postgres_cluster`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _user() -> str | None:
    """The unprivileged user to run the cluster as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nooverfit-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "nooverfit-pg"], check=True)
    return "nooverfit-pg"


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a fresh cluster; yield ``postgresql://postgres@127.0.0.1:PORT/postgres``.

    Raises:
        FileNotFoundError: if PostgreSQL's ``initdb`` is not installed.
    """
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
    user = _user()
    root = Path(tempfile.mkdtemp(prefix="nooverfit-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chmod(root, 0o755)
        for path in (root, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    prefix = ["runuser", "-u", user, "--"] if user is not None else []
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run(
            [*prefix, *args], check=True, capture_output=True, text=True, cwd=root, timeout=120
        )

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-h 127.0.0.1 -p {port} -k {sock} -F -c max_connections=100"
        log = str(root / "log")
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=root,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway cluster shared by the session's tests, stopped after."""
    pytest.importorskip("psycopg")
    if _bin_dir() is None:
        pytest.skip(
            "PostgreSQL is not installed (.ci/run installs it: apt-get install postgresql)"
        )
    with postgres_cluster() as url:
        yield url
