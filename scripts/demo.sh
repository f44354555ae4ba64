#!/usr/bin/env bash
# Start a ready K2K demo at http://localhost:8069: a vendor company (Bloom
# Imports) and a buyer company (Petal Wholesale), already connected, with the
# flowers the buyer buys from the vendor. The database is built on first run
# and kept afterwards; pass --reset to build it anew.
#
#   K2K_DEMO_DB     database name   (default k2k_demo)
#   K2K_DEMO_PORT   HTTP port       (default 8069)
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

DEMO_DB="${K2K_DEMO_DB:-k2k_demo}"
PORT="${K2K_DEMO_PORT:-8069}"

if ! venv_up_to_date; then
    log "The venv at $VENV is missing or out of date: running ./scripts/setup.sh first"
    "$REPO_ROOT/scripts/setup.sh"
fi
require_odoo
require_postgres
odoo_compiled || compile_odoo

[ "${1:-}" = "--reset" ] && { log "Dropping $DEMO_DB"; drop_db "$DEMO_DB"; }
installed="$(psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d "$DEMO_DB" -Atqc \
    "select state from ir_module_module where name = 'k2k_network'" 2>/dev/null || true)"
if [ "$installed" != "installed" ]; then
    drop_db "$DEMO_DB"
    log "Building the demo database $DEMO_DB (Odoo demo data + K2K demo, about 2 minutes)"
    odoo_bin -d "$DEMO_DB" -i k2k_network --stop-after-init --log-level=warn \
        > "$K2K_HOME/demo-install.log" 2>&1 \
        || { tail -30 "$K2K_HOME/demo-install.log" >&2; die "Building the demo failed."; }
fi

# Both K2K companies selected from the first page: Odoo takes the selected
# companies from the address (cids), else it shows the user's own company only.
demo_company() {
    psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d "$DEMO_DB" -Atqc \
        "select res_id from ir_model_data where module = 'k2k_network' and name = '$1'"
}
cids="$(demo_company demo_company_vendor)-$(demo_company demo_company_buyer)"
start_url="http://localhost:$PORT/web/login?redirect=%2Fodoo%2Faction-k2k_network.k2k_message_action%3Fcids%3D$cids"

cat >&2 <<MSG

  K2K Network demo: $start_url
  Login: admin   Password: admin
  It opens on the Synchronization Log with both companies selected: Bloom Imports
  (vendor) and Petal Wholesale (buyer), as the company switcher at the top right shows.
  K2K Network > Connections shows their connection; Settings > K2K Network the automations.
  Stop with Ctrl+C.

MSG
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
    --data-dir="$K2K_HOME/filestore" ${DB_HOST:+--db_host="$DB_HOST"} --db_user="$DB_USER" \
    -d "$DEMO_DB" --db-filter="^$DEMO_DB\$" --http-port="$PORT" --log-level=warn
