"""Helpers for tests that drive Odoo as a separate process (install,
uninstall, servers), as an administrator would from the command line."""

import os
import shutil
import subprocess
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from psycopg2.sql import SQL, Identifier
from remote_network import wait_until


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through ./scripts/test.sh")
    return value


class OdooCli:
    def __init__(self):
        self.python = _env("K2K_VENV_PYTHON")
        self.odoo_bin = os.path.join(_env("K2K_ODOO_SRC"), "odoo-bin")
        self.addons_path = _env("K2K_ADDONS_PATH")
        self.data_dir = _env("K2K_DATA_DIR")
        self.db_user = _env("K2K_DB_USER")

    def base_args(self, db, command=None):
        # A sub-command (shell, server...) must come first after odoo-bin.
        return [
            self.python,
            self.odoo_bin,
            *([command] if command else []),
            f"--addons-path={self.addons_path}",
            f"--data-dir={self.data_dir}",
            f"--db_user={self.db_user}",
            "-d",
            db,
            "--log-level=warn",
        ]

    def run(self, db, *args, command=None, stdin=None, timeout=900):
        proc = subprocess.run(
            self.base_args(db, command) + list(args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = proc.stdout + proc.stderr
        self.check_output(proc.returncode, output)
        return output

    @staticmethod
    def check_output(returncode, output):
        """Fail unless a run of Odoo ended with ``returncode`` 0 and logged
        no error in ``output``."""
        errors = [
            line
            for line in output.splitlines()
            if " ERROR " in line or " CRITICAL " in line or "failed to install" in line
        ]
        assert returncode == 0 and not errors, output[-4000:]

    def shell(self, db, code):
        return self.run(db, "--no-http", command="shell", stdin=code)

    def connect(self, db):
        return psycopg2.connect(dbname=db, user=self.db_user)

    def query(self, db, sql, params=None):
        with self.connect(db) as conn, conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()

    def copy(self, source, target, *, in_use=False):
        """``target`` becomes a copy of database ``source`` with its files,
        as an administrator's backup or restore makes it. Nothing may be
        connected to ``source``, unless ``in_use``: it is then a running
        server's, between two requests (the caller holds its scheduled
        actions off), whose connections are closed once idle, and no new
        one let in, while the copy is made (Odoo's own Duplicate closes
        them all first)."""
        self.drop(target)
        create = SQL("CREATE DATABASE {} TEMPLATE {}").format(
            Identifier(target), Identifier(source)
        )
        with closing(self.connect("postgres")) as conn:
            conn.autocommit = True
            cr = conn.cursor()
            if not in_use:
                cr.execute(create)
            else:
                self._let_in(cr, source, False)
                try:
                    self._close_idle_connections(cr, source)
                    cr.execute(create)
                finally:
                    self._let_in(cr, source, True)
        filestore = Path(self.data_dir) / "filestore"
        if (filestore / source).is_dir():
            shutil.copytree(filestore / source, filestore / target)

    @staticmethod
    def _let_in(cr, db, allowed):
        cr.execute(
            SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                Identifier(db), SQL("true" if allowed else "false")
            )
        )

    @staticmethod
    def _close_idle_connections(cr, db, timeout=60):
        """Close the connections to ``db`` once all are idle, and have been
        for a moment (seen and closed in one statement): an Odoo server
        resets each connection it lends before its first query, so one just
        lent out reads as busy. The server finds out at its next use of a
        closed one, and opens another."""

        def all_idle_and_closed():
            cr.execute(
                "WITH sessions AS (SELECT pid, state IS DISTINCT FROM 'idle' "
                "OR state_change > clock_timestamp() - interval '250 ms' AS busy "
                "FROM pg_stat_activity WHERE datname = %s "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()) "
                "SELECT busy, CASE WHEN NOT EXISTS (SELECT 1 FROM sessions "
                "WHERE busy) THEN pg_terminate_backend(pid) END FROM sessions",
                [db],
            )
            return not any(busy for busy, _closed in cr.fetchall())

        wait_until(
            all_idle_and_closed, timeout, f"{db}'s connections idle", interval=0.05
        )

    def drop(self, db):
        subprocess.run(
            ["dropdb", "-U", self.db_user, "--if-exists", "--force", db],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(Path(self.data_dir) / "filestore" / db, ignore_errors=True)


@pytest.fixture(scope="session")
def odoo_cli():
    return OdooCli()


def _wait_for_demo_install(timeout=900):
    """Wait until the install with demo data that ./scripts/test.sh runs
    beside the tests ended; return its exit status and log (``None`` when
    none runs beside: a run of some tests only)."""
    status_file = os.environ.get("K2K_DEMO_INSTALL_STATUS")
    if not status_file:
        return None
    status = Path(status_file)
    wait_until(status.exists, timeout, "the install beside ended", interval=0.5)
    return int(status.read_text()), Path(os.environ["K2K_DEMO_INSTALL_LOG"]).read_text()


@pytest.fixture(scope="session")
def wait_for_demo_install():
    """``wait_for_demo_install()``: the tests start while ./scripts/test.sh
    still installs a database with demo data beside them (its last seconds);
    the test of that install, and those whose time bounds are for the test
    workers alone, wait for it to end."""
    return _wait_for_demo_install


@pytest.fixture(scope="session")
def test_database():
    """The database these tests run in: the one ./scripts/test.sh installed,
    or, when the suite runs on several workers, this worker's own copy of it
    (pytest-odoo makes one per worker). Never the one the workers copy from:
    a connection to it would make the next copy fail."""
    import odoo  # noqa: PLC0415 (pytest-odoo has set Odoo up by the time a test asks)

    return odoo.tools.config["db_name"]


def pytest_collection_modifyitems(config, items):
    """These tests take minutes where the addon's own take seconds: they go
    first, so that on several workers (./scripts/test.sh runs three) none
    of them starts last and leaves the other workers idle; the short ones
    even the workers out at the end."""
    here = Path(__file__).parent
    items.sort(key=lambda item: here not in Path(item.path).parents)
