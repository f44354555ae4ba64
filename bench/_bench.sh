# Shared by bench/run.sh and bench/compare.sh (sourced first): the
# project's helpers and a check that Odoo and PostgreSQL are there, then
# building a benchmark database, serving it for the report's CSS, and
# running one bench script in an Odoo shell.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/_common.sh"
require_odoo
require_postgres
odoo_compiled || compile_odoo

build_db() {  # name modules addons_path
    if [ -n "${K2K_BENCH_REUSE:-}" ] && psql ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -d "$1" -Atqc \
            "select 1 from ir_module_module where name = 'k2k_network' or name = 'account_invoice_inter_company'" \
            2>/dev/null | grep -q 1; then
        log "Reusing $1 (K2K_BENCH_REUSE)"
        return
    fi
    log "Building $1 ($2, no demo data)"
    drop_db "$1"
    odoo_bin --addons-path="$3" -d "$1" -i "$2" --without-demo=all --stop-after-init \
        --log-level=warn > "$K2K_HOME/bench-build-$1.log" 2>&1 \
        || die "Could not build $1 (see $K2K_HOME/bench-build-$1.log)"
}
# wkhtmltopdf fetches the report CSS over HTTP: one server per database,
# without cron threads so that nothing else touches the data.
servers=()
serve() {  # db port addons_path
    curl -sf "http://127.0.0.1:$2/web/login" >/dev/null \
        && die "Port $2 is already taken."
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$3" \
        --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$1" --db-filter="^$1\$" \
        --http-interface=127.0.0.1 --http-port="$2" --max-cron-threads=0 --workers=0 \
        --log-level=warn > "$K2K_HOME/bench-server-$1.log" 2>&1 &
    servers+=($!)
    for _ in $(seq 1 90); do
        curl -sf "http://127.0.0.1:$2/web/login" >/dev/null && return
        sleep 1
    done
    die "The server for $1 did not start."
}
stop_servers() {
    [ "${#servers[@]}" -gt 0 ] && kill "${servers[@]}" 2>/dev/null
    servers=()
    return 0
}
shell() {  # db addons_path port n script [extra context]
    log "$(basename "$5" .py): N = $4"
    printf 'import sys\nsys.path.insert(0, "%s")\nenv = env(context=dict(env.context, k2k_bench_n=%s, k2k_report_url="http://127.0.0.1:%s", k2k_bench_out="%s"%s))\nexec(open("%s").read())\n' \
        "$REPO_ROOT/bench" "$4" "$3" "$RESULTS" "${6:-}" "$5" \
        | "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell --addons-path="$2" \
            --data-dir="$K2K_HOME/filestore" --db_user="$DB_USER" -d "$1" --no-http \
            --log-level=error > "$K2K_HOME/bench-shell.log" 2>&1 \
        || { tail -30 "$K2K_HOME/bench-shell.log" >&2; die "$(basename "$5") failed"; }
}

