#!/usr/bin/env bash
# Measure K2K posting latency on a fresh database: ./bench/posting_latency.sh [N]
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/_common.sh"
require_odoo
require_postgres
DB="${K2K_BENCH_DB:-k2k_bench}"
N="${1:-40}"
installed="$(psql -d "$DB" -Atqc "select state from ir_module_module where name = 'k2k_network'" 2>/dev/null || true)"
if [ "$installed" != "installed" ]; then
    drop_db "$DB"
    log "Building $DB (no demo data)"
    odoo_bin -d "$DB" -i k2k_network --without-demo=all --stop-after-init --log-level=warn >/dev/null 2>&1 \
        || die "Could not build $DB"
fi
printf 'env = env(context=dict(env.context, k2k_bench_n=%s))\nexec(open("%s").read())\n' \
    "$N" "$REPO_ROOT/bench/posting_latency.py" \
    | "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell --addons-path="$ADDONS_PATH" \
        --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$DB" --no-http \
        --log-level=error 2>/dev/null | sed -n '/^| /p'
