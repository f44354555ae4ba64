# Shared settings for the k2k_network developer scripts (sourced, not run).
# Every value can be overridden from the environment.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
ODOO_BRANCH="${ODOO_BRANCH:-18.0}"
ODOO_GIT_URL="${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}"
# The venv lives outside the clone so that every clone (and CI's fresh one)
# reuses it: a second set-up is then a matter of seconds.
K2K_HOME="${K2K_HOME:-$HOME/.cache/k2k_network}"
VENV="${K2K_VENV:-$K2K_HOME/venv-odoo18}"
PYTHON_BIN="${PYTHON_BIN:-$(command -v python3.11 || command -v python3)}"
DB_HOST="${PGHOST:-}"
DB_USER="${PGUSER:-$(id -un)}"
ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$REPO_ROOT"
# Modules the addon needs, used to pre-check a database.
K2K_MODULE="k2k_network"
# OCA modules the tests install beside k2k_network (k2k_network does not
# depend on them): automation 3 must hold whatever purchase grouping
# procurement_purchase_no_grouping sets. Unpacked from their PyPI wheels by
# setup.sh; only test.sh puts them on its addons path.
# queue_job: the optional bridge k2k_network_queue_job is tested with it, in a
# database of its own (tests_integration/test_queue_job.py); test.sh does not
# install it in the suite's database.
OCA_TEST_WHEELS="odoo-addon-procurement_purchase_no_grouping>=18.0,<18.1 odoo-addon-queue_job>=18.0,<18.1"
# One folder per list of wheels: clones on branches with different lists
# share the cache without replacing each other's modules under a running test.
OCA_TEST_HOME="${K2K_OCA_HOME:-$K2K_HOME/oca-addons-$(printf '%s' "$OCA_TEST_WHEELS" | sha1sum | cut -c1-8)}"
OCA_ADDONS_PATH="$OCA_TEST_HOME/odoo/addons"

log() { printf '\033[1m[k2k]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[k2k] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

odoo_bin() {
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
        --data-dir="$K2K_HOME/filestore" \
        ${DB_HOST:+--db_host="$DB_HOST"} --db_user="$DB_USER" "$@"
}

pg_ready() {
    psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

require_odoo() {
    [ -f "$ODOO_SRC/odoo-bin" ] || die "Odoo 18.0 is not at ODOO_SRC=$ODOO_SRC.
    Put a Community 18.0 tree there (or point ODOO_SRC at one) and run ./scripts/setup.sh."
    [ -x "$VENV/bin/python" ] || die "No virtual environment at $VENV. Run ./scripts/setup.sh first."
    "$VENV/bin/python" -c 'import odoo.release as r; assert r.version_info[0] == 18' 2>/dev/null \
        || die "The venv at $VENV cannot import Odoo 18 from $ODOO_SRC. Run ./scripts/setup.sh again."
}

require_postgres() {
    command -v psql >/dev/null || die "PostgreSQL client (psql) is missing. Run ./scripts/setup.sh: it installs PostgreSQL."
    pg_ready || die "PostgreSQL does not answer for role '$DB_USER'${DB_HOST:+ on $DB_HOST}.
    Start it (./scripts/setup.sh starts it) or set PGHOST/PGUSER to a server where '$DB_USER' may create databases."
}

requirements_hash() {
    cat "$ODOO_SRC/requirements.txt" "$REPO_ROOT/requirements-dev.txt" 2>/dev/null | sha1sum | cut -d' ' -f1
}

venv_up_to_date() {
    [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.k2k-requirements.sha" 2>/dev/null)" = "$(requirements_hash)" ]
}

oca_addons_up_to_date() {
    [ "$(cat "$OCA_TEST_HOME/.k2k-wheels" 2>/dev/null)" = "$OCA_TEST_WHEELS" ]
}

# Odoo's modules compiled to bytecode once, beside their sources, as Debian's
# python3 packages are at install: where PYTHONDONTWRITEBYTECODE is set (this
# project's machines set it) Python writes no .pyc of its own, and every Odoo
# process (each test server, shell and install) would compile again the
# ~1,300 modules it loads: 1.3 s of the 3.1 s of CPU of a server start. Python reads
# a compiled file only while its source keeps the mtime and size it was
# compiled from; it compiles any other in memory, as before. setup.sh compiles
# what changed since (seconds); the others do it when this Odoo, these OCA
# modules and this Python were not compiled yet.
compiled_stamp() {
    printf '%s\n' "$ODOO_SRC" "$OCA_TEST_HOME" \
        "$("$VENV/bin/python" -c 'import sys; print(sys.implementation.cache_tag)')"
}

odoo_compiled() {
    [ "$(cat "$K2K_HOME/odoo-compiled" 2>/dev/null)" = "$(compiled_stamp)" ]
}

compile_odoo() {
    if [ ! -w "$ODOO_SRC/odoo" ]; then
        log "Cannot write into $ODOO_SRC: Odoo's modules stay uncompiled (each Odoo start compiles them, slower)"
        return 0
    fi
    log "Compiling Odoo's modules to bytecode (once; seconds when done already)"
    local trees=("$ODOO_SRC/odoo" "$ODOO_SRC/addons")
    [ -d "$OCA_ADDONS_PATH" ] && trees+=("$OCA_ADDONS_PATH")
    if "$VENV/bin/python" -m compileall -q -j 0 "${trees[@]}" >/dev/null; then
        compiled_stamp > "$K2K_HOME/odoo-compiled"
    else
        log "Some of Odoo's files did not compile: Odoo compiles them when it loads them"
    fi
}

drop_db() {
    dropdb ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" --if-exists --force "$1" >/dev/null 2>&1 || true
    rm -rf "$K2K_HOME/filestore/filestore/$1"
}
