#!/usr/bin/env bash
# Regenerate the translation templates from the code, views and data, with
# Odoo's own exporter, on a fresh database without demo data:
# k2k_network/i18n/k2k_network.pot, and the optional bridge's
# k2k_network_queue_job/i18n/k2k_network_queue_job.pot (with OCA's queue_job,
# unpacked by setup.sh).
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
require_odoo
require_postgres
[ -d "$OCA_ADDONS_PATH/queue_job" ] || die "OCA's queue_job is missing: run ./scripts/setup.sh first."
ADDONS_PATH="$ADDONS_PATH,$OCA_ADDONS_PATH"
DB="${K2K_POT_DB:-k2k_pot}"
drop_db "$DB"
log "Installing k2k_network and k2k_network_queue_job in $DB to export their terms"
odoo_bin -d "$DB" -i k2k_network,k2k_network_queue_job --without-demo=all --stop-after-init \
    --log-level=warn >/dev/null 2>&1 \
    || die "Could not install the modules in $DB."
for module in k2k_network k2k_network_queue_job; do
    pot="$REPO_ROOT/$module/i18n/$module.pot"
    mkdir -p "$(dirname "$pot")"
    odoo_bin -d "$DB" --i18n-export="$pot" --modules="$module" --language= \
        --log-level=warn >/dev/null 2>&1 || die "The export of $module failed."
    log "Wrote $module/i18n/$module.pot ($(grep -c '^msgid' "$pot") terms)"
done
drop_db "$DB"
