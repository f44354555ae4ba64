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
# wkhtmltopdf fetches the report CSS over HTTP: serve the database meanwhile
# (no cron threads, so that nothing else touches it).
PORT="${K2K_BENCH_PORT:-8079}"
curl -sf "http://127.0.0.1:$PORT/web/login" >/dev/null \
    && die "Port $PORT is already taken: set K2K_BENCH_PORT to a free one."
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
    --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$DB" --db-filter="^$DB\$" \
    --http-port="$PORT" --max-cron-threads=0 --log-level=warn > "$K2K_HOME/bench-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$PORT/web/login" >/dev/null && break
    sleep 1
done
printf 'env = env(context=dict(env.context, k2k_bench_n=%s, k2k_report_url="http://127.0.0.1:%s"))\nexec(open("%s").read())\n' \
    "$N" "$PORT" "$REPO_ROOT/bench/posting_latency.py" \
    | "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell --addons-path="$ADDONS_PATH" \
        --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$DB" --no-http \
        --log-level=error 2>"$K2K_HOME/bench-shell.log" | sed -n '/^| /p'
