#!/usr/bin/env bash
# Build a fresh demo database, serve it, let the vendor update its invoice
# once (so that the buyer's bill shows "Updated by vendor"), and save the
# README's pictures in docs/screenshots/ with headless Chromium.
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
require_odoo
require_postgres
command -v chromium >/dev/null || die "chromium is missing: run ./scripts/setup.sh"

DB="${K2K_SHOTS_DB:-k2k_shots}"
PORT="${K2K_SHOTS_PORT:-8099}"
OUT="$REPO_ROOT/docs/screenshots"
mkdir -p "$OUT"
q() { psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d "$DB" -Atqc "$1"; }
wait_until() {  # SQL returning a non-empty value, timeout in seconds
    for _ in $(seq 1 "$2"); do [ -n "$(q "$1")" ] && return 0; sleep 1; done
    die "Timed out waiting for: $1"
}

drop_db "$DB"
log "Building $DB with the demo data (about 2 minutes)"
odoo_bin -d "$DB" -i k2k_network --stop-after-init --log-level=warn > "$K2K_HOME/shots-install.log" 2>&1 \
    || die "Building $DB failed (see $K2K_HOME/shots-install.log)"
# report.url: the invoice PDFs are rendered with this server's styles.
q "INSERT INTO ir_config_parameter (key, value) VALUES ('report.url', 'http://127.0.0.1:$PORT')
   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" >/dev/null
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" --data-dir="$K2K_HOME/filestore" \
    --db_user="$DB_USER" ${DB_HOST:+--db_host="$DB_HOST"} -d "$DB" --db-filter="^$DB\$" \
    --http-port="$PORT" --log-level=warn > "$K2K_HOME/shots-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/web/login" >/dev/null && break; sleep 1; done

log "Waiting for the scheduled action to deliver what the demo queued"
wait_until "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM k2k_message WHERE state = 'queued')
            AND EXISTS (SELECT 1 FROM account_move WHERE k2k_buyer_status = 'paid')" 240
log "The vendor corrects its invoice and posts it again"
cat <<'PY' | "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell --addons-path="$ADDONS_PATH" \
    --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$DB" --no-http --log-level=warn >/dev/null 2>&1
# The invoice whose bill waits for approval (the demo's other bills are
# disputed or paid).
bill = env["account.move"].search([("k2k_approval_state", "=", "pending"), ("move_type", "=", "in_invoice")], limit=1)
invoice = bill.k2k_vendor_move_id
invoice = invoice.with_context(allowed_company_ids=invoice.company_id.ids)
invoice.button_draft()
invoice.invoice_line_ids[0].price_unit = 0.60
invoice.action_post()
env.cr.commit()
PY
wait_until "SELECT id FROM account_move WHERE k2k_updated_by_vendor" 180

companies="$(q "SELECT string_agg(id::text, '-' ORDER BY name DESC) FROM res_company
                WHERE name IN ('Petal Wholesale', 'Bloom Imports')")"
"$VENV/bin/python" "$REPO_ROOT/scripts/screenshots.py" --url "http://127.0.0.1:$PORT" --out "$OUT" \
    --companies "$companies" \
    --connection "$(q "SELECT id FROM k2k_connection LIMIT 1")" \
    --bill "$(q "SELECT id FROM account_move WHERE k2k_updated_by_vendor LIMIT 1")" \
    --disputed-bill "$(q "SELECT id FROM account_move WHERE k2k_approval_state = 'disputed' LIMIT 1")"
drop_db "$DB"
