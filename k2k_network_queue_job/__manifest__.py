# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "K2K Network - Queue Job",
    "summary": "Drain the K2K outbox with OCA queue_job: one job per connection, "
    "several connections in parallel",
    "version": "18.0.1.0.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/k2k-network/k2k_network",
    "author": "K2K Network contributors",
    "license": "LGPL-3",
    "depends": [
        "k2k_network",
        "queue_job",
    ],
    "data": [
        "data/queue_job_data.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
}
