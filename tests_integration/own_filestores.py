"""A pytest plugin (``-p tests_integration.own_filestores``, given by
./scripts/test.sh): each pytest-xdist worker keeps the files of its own copy
of the test database in a filestore of its own.

pytest-odoo points every worker's copy at the filestore of the database it
copied. But Odoo's TransactionCase collects the filestore's garbage after
each test class (``_gc_filestore``): the files its checklist names and its own
database does not reference. In a shared filestore those include the files
another worker wrote a moment ago in a test still running, whose PDF then
reads empty. ./scripts/test.sh gives each worker's database a filestore that
starts as hard links to the installed one's (its files are never written in
place, only added and removed)."""

import contextlib

import pytest_odoo


@contextlib.contextmanager
def _own_filestore(_original_db_name, _db_name):
    yield


pytest_odoo._shared_filestore = _own_filestore
