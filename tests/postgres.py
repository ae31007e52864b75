"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder.

``initdb`` refuses to run as root, so as root (CI) the cluster belongs to the ``postgres``
system user that Debian's ``postgresql`` package creates, and its programs run through
``runuser``; as anyone else they run as that user. The server listens on 127.0.0.1 at a
free port and trusts local connections; durability is off (``fsync``), it is thrown away.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_USER = "postgres"
"""The system user owning the cluster when the tests run as root."""


def postgres_bin() -> Path | None:
    """The folder of Debian's newest installed ``initdb``/``pg_ctl``, or of those on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    number = Path(path).parts[-3]
    return int(number) if number.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayServer:
    """One PostgreSQL cluster, started by ``start`` and deleted by ``stop``."""

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self._as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="youju-pg-"))
        self.port = _free_port()
        self._databases = 0

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # in the cluster's folder: the user may not reach the current one (a root checkout)
        subprocess.run(command, check=True, capture_output=True, text=True, cwd=self.folder)

    def start(self) -> None:
        """Create the cluster and start the server (waits until it accepts connections)."""
        if self._as_root:
            shutil.chown(self.folder, SERVER_USER)
        data = str(self.folder / "data")
        self._run(
            "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        self._databases += 1
        name = f"test_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` (closing what still uses it)."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        """Stop the server and delete its cluster."""
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
