#!/usr/bin/env bash
# One command to make a machine ready for k2k_network: PostgreSQL installed and
# running, Odoo 18.0 source, a virtual environment with Odoo's requirements and
# the dev tools, Chromium for the browser tours. Safe to run again: what is
# already there is kept, so a second run takes seconds.
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# -- 1. Debian packages -----------------------------------------------------
DEB_PACKAGES=(postgresql postgresql-client libpq-dev libldap2-dev libsasl2-dev
    libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev build-essential git
    chromium wkhtmltopdf fonts-dejavu-core)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "Missing system packages (${missing[*]}) and no apt-get to install them."
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    log "Debian packages: all present"
fi

# -- 2. PostgreSQL running, with a role for this user ----------------------
if ! pg_ready; then
    if [ -z "$DB_HOST" ] && command -v pg_lsclusters >/dev/null; then
        if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
            ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
            log "Creating PostgreSQL $ver cluster"
            as_root pg_createcluster "$ver" main >/dev/null
        fi
        read -r ver cluster _ < <(pg_lsclusters -h | head -1)
        log "Starting PostgreSQL $ver/$cluster"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start || true
        for _ in $(seq 1 30); do
            as_root su postgres -c "psql -Atqc 'select 1'" >/dev/null 2>&1 && break
            sleep 1
        done
        if ! pg_ready; then
            log "Creating PostgreSQL role $DB_USER (superuser, for development)"
            as_root su postgres -c "createuser -s '$DB_USER'" 2>/dev/null || true
        fi
    fi
    pg_ready || die "PostgreSQL is still not reachable for role $DB_USER."
fi
log "PostgreSQL: $(psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d postgres -Atqc 'show server_version')"

# -- 3. Odoo 18.0 source ---------------------------------------------------
if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
    log "No Odoo at $ODOO_SRC: cloning Odoo $ODOO_BRANCH from $ODOO_GIT_URL"
    as_root mkdir -p "$(dirname "$ODOO_SRC")"
    git clone --depth 1 --branch "$ODOO_BRANCH" "$ODOO_GIT_URL" "$ODOO_SRC" \
        || die "Could not get Odoo $ODOO_BRANCH (no internet?). Put an Odoo 18.0 tree at ODOO_SRC=$ODOO_SRC."
fi
grep -q "version_info = (18, 0" "$ODOO_SRC/odoo/release.py" \
    || die "$ODOO_SRC is not Odoo 18.0 (see $ODOO_SRC/odoo/release.py)."
log "Odoo source: $ODOO_SRC"

# -- 4. Virtual environment ------------------------------------------------
[ -n "$PYTHON_BIN" ] || die "No python3 found."
if [ ! -x "$VENV/bin/python" ]; then
    log "Creating venv $VENV with $("$PYTHON_BIN" --version)"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON_BIN" -m venv "$VENV"
fi
stamp="$VENV/.k2k-requirements.sha"
want="$(requirements_hash)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "Installing Odoo's requirements and the dev tools (about a minute)"
    constraint="$K2K_HOME/pip-constraint.txt"
    # cbor2's sdist (pinned by Odoo) imports pkg_resources, gone in setuptools 81.
    printf 'setuptools<81\npip<26\n' > "$constraint"
    export PIP_CONSTRAINT="$constraint" PIP_DISABLE_PIP_VERSION_CHECK=1
    "$VENV/bin/pip" install -q --upgrade 'pip<26' wheel 'setuptools<81'
    # pip 26 stopped passing PIP_CONSTRAINT into isolated build environments.
    "$VENV/bin/pip" install -q -r "$ODOO_SRC/requirements.txt"
    "$VENV/bin/pip" install -q -r "$REPO_ROOT/requirements-dev.txt"
    echo "$want" > "$stamp"
else
    log "Python requirements: up to date"
fi
# Odoo is made importable by a .pth file rather than an editable install: an
# editable install breaks as soon as an odoo-addon-* wheel lands next to it.
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$ODOO_SRC" > "$site/odoo-src.pth"
require_odoo

# -- 5. OCA modules for the tests ------------------------------------------
# Their wheels declare a dependency on an "odoo" pip package that PyPI does
# not have (Odoo comes from ODOO_SRC above), and installing them into the
# venv would put a second "odoo" package beside the source tree's: so they are
# downloaded without dependencies and unpacked into a folder of their own.
if ! oca_addons_up_to_date; then
    log "Fetching the OCA modules the tests use from PyPI: $OCA_TEST_WHEELS"
    rm -rf "$OCA_TEST_HOME.tmp"
    mkdir -p "$OCA_TEST_HOME.tmp/wheels"
    # shellcheck disable=SC2086  # one requirement per word
    "$VENV/bin/pip" download -q --no-deps --only-binary=:all: \
        -d "$OCA_TEST_HOME.tmp/wheels" $OCA_TEST_WHEELS \
        || die "Could not download $OCA_TEST_WHEELS from PyPI."
    for wheel in "$OCA_TEST_HOME.tmp"/wheels/*.whl; do
        "$VENV/bin/python" -m zipfile -e "$wheel" "$OCA_TEST_HOME.tmp"
    done
    rm -rf "$OCA_TEST_HOME.tmp/wheels"
    echo "$OCA_TEST_WHEELS" > "$OCA_TEST_HOME.tmp/.k2k-wheels"
    rm -rf "$OCA_TEST_HOME"
    mv "$OCA_TEST_HOME.tmp" "$OCA_TEST_HOME"
else
    log "OCA modules for the tests: present"
fi
mkdir -p "$K2K_HOME/filestore"

# -- 6. Odoo's modules compiled --------------------------------------------
compile_odoo

log "Ready. Run the tests with ./scripts/test.sh, or a demo with ./scripts/demo.sh"
