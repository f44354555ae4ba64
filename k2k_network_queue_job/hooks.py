# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Messages queued before the installation go to jobs now, at the
    scheduled action's next run rather than in up to fifteen minutes."""
    env["k2k.message"]._k2k_trigger_processing()


def uninstall_hook(env):
    """The scheduled action delivers again by itself: the jobs still waiting
    would call a method that is gone, so they are cancelled; their messages
    are still queued, and the scheduled action takes them at once."""
    env["queue.job"].search(
        [
            ("model_name", "=", "k2k.connection"),
            ("method_name", "=", "_k2k_queue_deliver"),
            ("state", "in", ("wait_dependencies", "pending", "enqueued", "failed")),
        ]
    ).button_cancelled()
    env["k2k.message"]._k2k_trigger_processing()
