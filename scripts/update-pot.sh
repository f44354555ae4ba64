#!/usr/bin/env bash
# Regenerate k2k_network/i18n/k2k_network.pot from the code, views and data,
# with Odoo's own exporter, on a fresh database without demo data.
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
require_odoo
require_postgres
DB="${K2K_POT_DB:-k2k_pot}"
drop_db "$DB"
log "Installing k2k_network in $DB to export its terms"
odoo_bin -d "$DB" -i k2k_network --without-demo=all --stop-after-init --log-level=warn >/dev/null 2>&1 \
    || die "Could not install k2k_network in $DB."
odoo_bin -d "$DB" --i18n-export="$REPO_ROOT/k2k_network/i18n/k2k_network.pot" \
    --modules=k2k_network --language= --log-level=warn >/dev/null 2>&1 \
    || die "The export failed."
drop_db "$DB"
log "Wrote k2k_network/i18n/k2k_network.pot ($(grep -c '^msgid' "$REPO_ROOT/k2k_network/i18n/k2k_network.pot") terms)"
