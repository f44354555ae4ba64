#!/usr/bin/env bash
# Run the whole k2k_network test suite on a fresh database and end with
# pytest's summary line. Extra arguments go to pytest (e.g. -k handshake).
#
#   K2K_TEST_DB       name of the database to (re)create   (default k2k_test)
#   K2K_TEST_WORKERS  pytest-xdist workers, 0 for none     (default 3)
#   ODOO_SRC          Odoo 18.0 source                     (default /opt/odoo/18.0)
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if ! venv_up_to_date || ! oca_addons_up_to_date; then
    log "The venv at $VENV or the OCA modules in $OCA_TEST_HOME are missing or out of date: running ./scripts/setup.sh first"
    "$REPO_ROOT/scripts/setup.sh"
fi
require_odoo
require_postgres
odoo_compiled || compile_odoo

TEST_DB="${K2K_TEST_DB:-k2k_test}"
# One configuration file per database, so that two runs side by side (two
# clones, two K2K_TEST_DB) do not overwrite each other's.
CONF="$K2K_HOME/odoo-test-$TEST_DB.conf"
ADDONS_PATH="$ADDONS_PATH,$OCA_ADDONS_PATH"
for oca_module in procurement_purchase_no_grouping queue_job; do
    [ -f "$OCA_ADDONS_PATH/$oca_module/__manifest__.py" ] \
        || die "OCA's $oca_module is not in $OCA_ADDONS_PATH. Run ./scripts/setup.sh."
done
mkdir -p "$K2K_HOME/filestore"
cat > "$CONF" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $K2K_HOME/filestore
db_user = $DB_USER
${DB_HOST:+db_host = $DB_HOST}
db_name = $TEST_DB
dbfilter = ^$TEST_DB\$
without_demo = all
log_level = warn
CONF

# payment_demo: the browser tour pays in the web shop with Odoo's demo provider.
# procurement_purchase_no_grouping: automation 3 is tested under each of its
# grouping modes (k2k_network itself does not depend on it).
# Not k2k_network_queue_job (nor queue_job): it changes who drains the outbox,
# which the tests here expect of the scheduled action; its own test installs
# it in a copy of this database (tests_integration/test_queue_job.py).
TEST_MODULES="k2k_network,payment_demo,procurement_purchase_no_grouping"
# The test of an install with demo data then an uninstall
# (tests_integration/test_install_uninstall.py) needs a database of its own,
# installed as an administrator installs one. Installing it takes minutes of
# one core: it runs on the other core while this one installs $TEST_DB, and the
# test checks what came of it. The tests start beside its last seconds; the
# test of it waits for it to end, and so does the one whose time bounds are
# for the test workers alone (test_chaos.py: it waits before its flood,
# after its servers started). Not for a run of some tests only (-k, a file).
DEMO_DB="${TEST_DB}_demo_install"
DEMO_LOG="$K2K_HOME/install-$DEMO_DB.log"
# Named after this run: an install left running by a run that was killed
# outright writes its own status, never this run's.
DEMO_STATUS="$K2K_HOME/install-$DEMO_DB.$$.rc"
drop_db "$DEMO_DB"
case " $* " in
    *" -k"* | *"::"* | *test_*.py*) ;;
    *)
        log "Installing k2k_network with demo data into $DEMO_DB, beside"
        # errexit (set in _common.sh) would end the subshell before a failed
        # install's status is written: the test would wait for it in vain.
        ( status=0
          odoo_bin -d "$DEMO_DB" -i k2k_network --stop-after-init --log-level=warn \
              > "$DEMO_LOG" 2>&1 || status=$?
          echo "$status" > "$DEMO_STATUS.part" && mv "$DEMO_STATUS.part" "$DEMO_STATUS" ) &
        export K2K_DEMO_INSTALL_DB="$DEMO_DB" K2K_DEMO_INSTALL_LOG="$DEMO_LOG" \
               K2K_DEMO_INSTALL_STATUS="$DEMO_STATUS"
        ;;
esac
# Whatever ends this script, the install beside ends with it, and its database
# is dropped (the test drops it too once it checked it).
end_demo_install() {
    pkill -f -- "-d $DEMO_DB -i k2k_network" 2>/dev/null || true
    wait 2>/dev/null || true
    drop_db "$DEMO_DB"
    rm -f "$DEMO_STATUS"
}
trap end_demo_install EXIT

log "Creating a fresh database $TEST_DB with $TEST_MODULES (no demo data)"
drop_db "$TEST_DB"
start=$(date +%s)
if ! odoo_bin -c "$CONF" -d "$TEST_DB" -i "$TEST_MODULES" --without-demo=all \
        --stop-after-init --log-level=warn > "$K2K_HOME/install-$TEST_DB.log" 2>&1 \
    || grep -qE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL)" "$K2K_HOME/install-$TEST_DB.log"; then
    tail -40 "$K2K_HOME/install-$TEST_DB.log" >&2
    die "Installing $TEST_MODULES failed (full log: $K2K_HOME/install-$TEST_DB.log)."
fi
log "Installed in $(( $(date +%s) - start )) s"

# The cross-database test copies this database twice (vendor and buyer
# servers); copy it now, while nothing is connected to it.
E2E_TEMPLATE="${TEST_DB}_e2e_template"
drop_db "$E2E_TEMPLATE"
createdb ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -T "$TEST_DB" "$E2E_TEMPLATE"
rm -rf "$K2K_HOME/filestore/filestore/$E2E_TEMPLATE"
if [ -d "$K2K_HOME/filestore/filestore/$TEST_DB" ]; then
    cp -a "$K2K_HOME/filestore/filestore/$TEST_DB" "$K2K_HOME/filestore/filestore/$E2E_TEMPLATE"
fi

export K2K_E2E_TEMPLATE="$E2E_TEMPLATE" K2K_TEST_DB="$TEST_DB" K2K_ODOO_SRC="$ODOO_SRC" K2K_VENV_PYTHON="$VENV/bin/python" K2K_ADDONS_PATH="$ADDONS_PATH" \
       K2K_DATA_DIR="$K2K_HOME/filestore" K2K_DB_USER="$DB_USER"
cd "$REPO_ROOT"
# Three workers by default on two cores (pytest-xdist; pytest-odoo gives each
# its own copy of $TEST_DB), one test file at a time each, the long files of
# tests_integration first (its conftest orders them): those spend much of
# their time waiting for their servers, and a third worker takes the CPU they
# leave. K2K_TEST_WORKERS=0 runs everything in this
# one process. Each worker's copy has a filestore of its own, hard links to
# $TEST_DB's files (tests_integration/own_filestores.py says why).
WORKERS="${K2K_TEST_WORKERS:-3}"
remove_worker_filestores() {
    rm -rf "$K2K_HOME/filestore/filestore/$TEST_DB-gw"*
}
remove_worker_filestores
for ((worker = 0; worker < WORKERS; worker++)); do
    if [ -d "$K2K_HOME/filestore/filestore/$TEST_DB" ]; then
        cp -al "$K2K_HOME/filestore/filestore/$TEST_DB" \
            "$K2K_HOME/filestore/filestore/$TEST_DB-gw$worker"
    fi
done
trap 'end_demo_install; remove_worker_filestores' EXIT
"$VENV/bin/python" -m pytest -p no:cacheprovider -p tests_integration.own_filestores \
    -n "$WORKERS" --dist loadfile --no-loadscope-reorder \
    --odoo-config="$CONF" --odoo-database="$TEST_DB" --odoo-log-level=warn --odoo-http \
    k2k_network/tests tests_integration "$@"
