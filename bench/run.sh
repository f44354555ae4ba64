#!/usr/bin/env bash
# The K2K benchmark, in one command: builds its own databases, measures,
# prints a markdown table and writes bench/results/ (report.md, chart.png,
# results.jsonl).
#
#   ./bench/run.sh                       # N = 50, 200, 1000; 500 web orders; 200 and 1,000
#                                        # across databases, each beside Odoo's own floor
#   K2K_BENCH_SIZES=50,200 K2K_BENCH_OCA_SIZES=50 ./bench/run.sh   # quicker
#
#   K2K_BENCH_SIZES       invoice counts for k2k_network      (default 50,200,1000)
#   K2K_BENCH_OCA_SIZES   invoice counts for the OCA module   (default: the same)
#   K2K_BENCH_POSTING_N   invoices per side for posting latency (default 50)
#   K2K_BENCH_WEB_N       web orders per side                  (default 500)
#   K2K_BENCH_CROSS_N     comma list of invoice counts across two databases, and of
#                         Odoo's floor for the same work (default 200,1000; 0 skips)
#   K2K_BENCH_BACKLOG_N   invoices queued for 20 partners (one down) and drained as
#                         Odoo's scheduler runs the scheduled action (default 5000; 0 skips)
#   K2K_BENCH_WORKERS_N   invoices drained by the scheduled action, then by queue_job
#                         with one and two jobs at a time       (default 200; 0 skips)
#   K2K_BENCH_REUSE       set: keep the databases of an earlier run (faster, less clean)
#   K2K_BENCH_OUT         where to write the results            (default bench/results)
#   K2K_BENCH_ONLY        comma list of posting,sync,oca,web,floor,cross,backlog,workers:
#                         run only these and replace their rows in the last results
#                         (the others are kept)
source "$(dirname "${BASH_SOURCE[0]}")/_bench.sh"

SIZES="${K2K_BENCH_SIZES:-50,200,1000}"
OCA_SIZES="${K2K_BENCH_OCA_SIZES:-$SIZES}"
POSTING_N="${K2K_BENCH_POSTING_N:-50}"
WEB_N="${K2K_BENCH_WEB_N:-500}"
CROSS_N="${K2K_BENCH_CROSS_N:-200,1000}"
FLOOR_N="$CROSS_N"
WORKERS_N="${K2K_BENCH_WORKERS_N:-200}"
BACKLOG_N="${K2K_BENCH_BACKLOG_N:-5000}"
DB=k2k_bench
OCA_DB=k2k_bench_oca
TEMPLATE=k2k_bench_template
OUT="${K2K_BENCH_OUT:-$REPO_ROOT/bench/results}"
RESULTS="$OUT/results.jsonl"
ONLY="${K2K_BENCH_ONLY:-}"
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
mkdir -p "$OUT"
if [ -z "$ONLY" ] || [ ! -f "$RESULTS" ]; then
    : > "$RESULTS"
else
    # Drop the rows of the steps run again; keep the others.
    "$VENV/bin/python" - "$RESULTS" "$ONLY" <<'PY'
import json, sys
path, only = sys.argv[1], set(sys.argv[2].split(","))
def step(row):
    if row["bench"] == "posting":
        return "oca" if row["impl"] == "oca" else "posting"
    if row["bench"] == "invoice_sync":
        return "oca" if row["impl"] == "oca" else "sync"
    return {
        "web_orders": "web", "cross_db": "cross", "floor": "floor", "backlog": "backlog",
        "workers": "workers",
    }[row["bench"]]
rows = [json.loads(line) for line in open(path) if line.strip()]
with open(path, "w") as out:
    for row in rows:
        if step(row) not in only:
            out.write(json.dumps(row) + "\n")
PY
fi
started=$(date +%s)

# OCA's module from PyPI, unpacked beside (not into) the venv: installing it
# into site-packages would shadow the Odoo source tree's "odoo" package.
OCA_HOME="$K2K_HOME/bench-oca"
if want oca && [ ! -d "$OCA_HOME/addons/odoo/addons/account_invoice_inter_company" ]; then
    log "Fetching OCA account_invoice_inter_company 18.0 from PyPI"
    rm -rf "$OCA_HOME" && mkdir -p "$OCA_HOME/wheel"
    "$VENV/bin/pip" download -q --no-deps -d "$OCA_HOME/wheel" \
        "odoo-addon-account_invoice_inter_company>=18.0,<18.1" \
        || die "Could not download the OCA module from PyPI."
    "$VENV/bin/python" -m zipfile -e "$OCA_HOME"/wheel/*.whl "$OCA_HOME/addons"
fi
OCA_ADDONS="$ADDONS_PATH,$OCA_HOME/addons/odoo/addons"

# Both databases get the same modules, so that posting costs the same but
# for the synchronization itself.
build_db "$DB" k2k_network "$ADDONS_PATH"
[ -n "${K2K_BENCH_REUSE:-}" ] && odoo_bin -d "$DB" -u k2k_network --stop-after-init --log-level=warn >/dev/null 2>&1
drop_db "$TEMPLATE"
createdb ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -T "$DB" "$TEMPLATE"
cp -a "$K2K_HOME/filestore/filestore/$DB" "$K2K_HOME/filestore/filestore/$TEMPLATE"
want oca && build_db "$OCA_DB" purchase_stock,sale_stock,website_sale,account_invoice_inter_company "$OCA_ADDONS"

trap stop_servers EXIT
serve "$DB" 8079 "$ADDONS_PATH"
want oca && serve "$OCA_DB" 8078 "$OCA_ADDONS"

want posting && shell "$DB" "$ADDONS_PATH" 8079 "$POSTING_N" "$REPO_ROOT/bench/k2k_posting.py"
want sync || SIZES=""
want oca || OCA_SIZES=""
want web || WEB_N=0
want floor || FLOOR_N=""
want cross || CROSS_N=""
want workers || WORKERS_N=0
want backlog || BACKLOG_N=0
for n in ${SIZES//,/ }; do
    shell "$DB" "$ADDONS_PATH" 8079 "$n" "$REPO_ROOT/bench/k2k_invoices.py"
done
first_oca=1
for n in ${OCA_SIZES//,/ }; do
    extra=""
    [ "$first_oca" = 1 ] && extra=", k2k_bench_posting_n=$n" && first_oca=0
    shell "$OCA_DB" "$OCA_ADDONS" 8078 "$n" "$REPO_ROOT/bench/oca_invoices.py" "$extra"
done
if [ "$WEB_N" -gt 0 ]; then
    shell "$DB" "$ADDONS_PATH" 8079 "$WEB_N" "$REPO_ROOT/bench/k2k_web_orders.py"
fi
# Odoo's own floor for each cross-database size: the same work in one
# process, without K2K (see bench/floor.py).
for n in ${FLOOR_N//,/ }; do
    [ "$n" -gt 0 ] || continue
    shell "$DB" "$ADDONS_PATH" 8079 "$n" "$REPO_ROOT/bench/floor.py"
done
# A backlog for 20 partners, one down, drained by the scheduler's own code
# (see bench/backlog.py); it leaves its invoices and bills behind, so it
# comes after the steps that roll theirs back.
if [ "$BACKLOG_N" -gt 0 ]; then
    shell "$DB" "$ADDONS_PATH" 8079 "$BACKLOG_N" "$REPO_ROOT/bench/backlog.py"
fi
stop_servers

for n in ${CROSS_N//,/ }; do  # cross_db.py takes one N per call
    [ "$n" -gt 0 ] || continue
    log "cross_db: N = $n"
    K2K_ODOO_SRC="$ODOO_SRC" K2K_VENV_PYTHON="$VENV/bin/python" K2K_ADDONS_PATH="$ADDONS_PATH" \
    K2K_DATA_DIR="$K2K_HOME/filestore" K2K_DB_USER="$DB_USER" \
        "$VENV/bin/python" "$REPO_ROOT/bench/cross_db.py" "$n" "$TEMPLATE" "$RESULTS" \
        || die "cross_db.py failed (N = $n)"
done

if [ "$WORKERS_N" -gt 0 ]; then
    # OCA's queue_job, for the optional bridge k2k_network_queue_job: the
    # test set-up's unpacked wheels.
    oca_addons_up_to_date || "$REPO_ROOT/scripts/setup.sh"
    log "workers: N = $WORKERS_N"
    K2K_ODOO_SRC="$ODOO_SRC" K2K_VENV_PYTHON="$VENV/bin/python" \
    K2K_ADDONS_PATH="$ADDONS_PATH,$OCA_ADDONS_PATH" \
    K2K_DATA_DIR="$K2K_HOME/filestore" K2K_DB_USER="$DB_USER" \
        "$VENV/bin/python" "$REPO_ROOT/bench/workers.py" "$WORKERS_N" "$TEMPLATE" "$RESULTS" \
        || die "workers.py failed"
fi

"$VENV/bin/python" "$REPO_ROOT/bench/report.py" "$RESULTS" "$OUT/report.md" "$OUT/chart.png"
log "Done in $(( $(date +%s) - started )) s: $OUT/report.md, $OUT/chart.png"
