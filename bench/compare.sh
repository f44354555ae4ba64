#!/usr/bin/env bash
# Before and after: the addon of another commit against this checkout's, on
# the same machine, in alternating rounds (before, after, after, before,
# ...), so that the machine's drift over the run falls on both alike. Each
# round measures the invoice synchronization in one database (N invoices)
# and across two databases (N invoices); the table gives each side's median
# and the ratio after/before with its spread across rounds.
#
#   ./bench/compare.sh 21cecc6                 # 3 rounds of N = 200
#   K2K_BENCH_ROUNDS=5 K2K_BENCH_N=200 ./bench/compare.sh HEAD~3
#
#   K2K_BENCH_ROUNDS   rounds (default 3)
#   K2K_BENCH_N        invoices per measure (default 200)
#   K2K_BENCH_OUT      where to write compare.md and compare.jsonl
#                      (default bench/results)
source "$(dirname "${BASH_SOURCE[0]}")/_bench.sh"

BEFORE_REV="${1:?Give the commit to compare with, e.g. ./bench/compare.sh HEAD~1}"
ROUNDS="${K2K_BENCH_ROUNDS:-3}"
N="${K2K_BENCH_N:-200}"
OUT="${K2K_BENCH_OUT:-$REPO_ROOT/bench/results}"
mkdir -p "$OUT"
ROWS="$OUT/compare.jsonl"
: > "$ROWS"

# The other commit's addon, as files (its bench scripts are not used: both
# sides run this checkout's, so that only the addon differs).
BEFORE_DIR="$K2K_HOME/bench-before"
rm -rf "$BEFORE_DIR" && mkdir -p "$BEFORE_DIR"
git -C "$REPO_ROOT" archive "$BEFORE_REV" k2k_network | tar -x -C "$BEFORE_DIR" \
    || die "Cannot read k2k_network at $BEFORE_REV."
log "Before: $BEFORE_REV ($(git -C "$REPO_ROOT" rev-parse --short "$BEFORE_REV")); after: this checkout"

declare -A ADDONS=(
    [before]="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$BEFORE_DIR"
    [after]="$ADDONS_PATH"
)
declare -A PORT=([before]=8077 [after]=8079)
trap stop_servers EXIT
for side in before after; do
    db="k2k_bench_$side"
    build_db "$db" k2k_network "${ADDONS[$side]}"
    drop_db "${db}_template"
    createdb ${DB_HOST:+-h "$DB_HOST"} -U "$DB_USER" -T "$db" "${db}_template"
    rm -rf "$K2K_HOME/filestore/filestore/${db}_template"
    cp -a "$K2K_HOME/filestore/filestore/$db" "$K2K_HOME/filestore/filestore/${db}_template"
    serve "$db" "${PORT[$side]}" "${ADDONS[$side]}"
done

measure() {  # side round
    local side=$1 round=$2 db="k2k_bench_$1" rows
    rows=$(mktemp)
    RESULTS="$rows"
    shell "$db" "${ADDONS[$side]}" "${PORT[$side]}" "$N" "$REPO_ROOT/bench/k2k_invoices.py"
    log "cross_db: N = $N ($side)"
    K2K_ODOO_SRC="$ODOO_SRC" K2K_VENV_PYTHON="$VENV/bin/python" K2K_ADDONS_PATH="${ADDONS[$side]}" \
    K2K_DATA_DIR="$K2K_HOME/filestore" K2K_DB_USER="$DB_USER" \
        "$VENV/bin/python" "$REPO_ROOT/bench/cross_db.py" "$N" "${db}_template" "$rows" \
        > /dev/null || die "cross_db.py failed ($side)"
    "$VENV/bin/python" - "$rows" "$side" "$round" >> "$ROWS" <<'PY'
import json, sys
path, side, round_ = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(path):
    if line.strip():
        print(json.dumps(dict(json.loads(line), side=side, round=round_)))
PY
    rm -f "$rows"
}

for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="before after"; else order="after before"; fi
    for side in $order; do
        log "Round $round of $ROUNDS: $side"
        measure "$side" "$round"
    done
done
stop_servers

"$VENV/bin/python" - "$ROWS" "$BEFORE_REV" "$N" > "$OUT/compare.md" <<'PY'
import json, statistics, sys
path, rev, n = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(line) for line in open(path) if line.strip()]
metrics = [
    ("invoice_sync", lambda r: r["sync_ms_per_invoice"], "ms per synced invoice, one database"),
    ("cross_db", lambda r: 1000 / r["invoices_per_s"], "ms per invoice until its bill, two databases"),
    # Not noise: the same work asks the same queries in every round.
    ("invoice_sync", lambda r: r["queries_per_bill"], "SQL queries per bill, one database"),
]
print(f"# Before ({rev}) and after (this checkout), N = {n}, alternating rounds\n")
print("| measure | before (median) | after (median) | after / before, median | spread across rounds |")
print("|---|---|---|---|---|")
for bench, value, label in metrics:
    by_round = {}
    for row in rows:
        if row["bench"] == bench:
            by_round.setdefault(row["round"], {})[row["side"]] = value(row)
    pairs = [r for r in by_round.values() if {"before", "after"} <= set(r)]
    if not pairs:
        continue
    ratios = [r["after"] / r["before"] for r in pairs]
    before = statistics.median(r["before"] for r in pairs)
    after = statistics.median(r["after"] for r in pairs)
    print(
        f"| {label} | {before:.1f} | {after:.1f} | {statistics.median(ratios):.3f} "
        f"| {min(ratios):.3f} to {max(ratios):.3f} ({len(ratios)} rounds) |"
    )
PY
cat "$OUT/compare.md"
log "Written: $OUT/compare.md, $ROWS"
