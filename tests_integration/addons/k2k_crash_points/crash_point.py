# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""When to die: the moment named by the system parameter
``k2k_crash_points.kill_after`` (``buyer_commit``, ``buyer_hold`` or
``vendor_answer``),
once ``k2k_crash_points.spare`` passes through that moment have gone by.

The passes are counted in this process, and only while the moment is
armed: the test arms it, the process dies at the chosen pass, and the test
disarms it in the database before the server starts again (SQL, as nothing
runs then to cache the old value).
"""

import os
import signal
import threading
import time

KILL_AFTER = "k2k_crash_points.kill_after"
SPARE = "k2k_crash_points.spare"
# Long enough for the test to see the moment and kill the other side; the
# held server is killed or stopped by the test before it ends.
HOLD_SECONDS = 120

_lock = threading.Lock()
# (database, moment) -> passes through the moment while it was armed.
_passes = {}


def reached(env, moment):
    """Count one pass through ``moment``; return whether this is the pass
    to die at."""
    params = env["ir.config_parameter"].sudo()
    if params.get_param(KILL_AFTER) != moment:
        return False
    spare = int(params.get_param(SPARE) or 0)
    key = (env.cr.dbname, moment)
    with _lock:
        _passes[key] = _passes.get(key, 0) + 1
        return _passes[key] > spare


def die():
    # SIGKILL, not an exception: no handler, no rollback, no answer, the
    # way a power cut or the OOM killer ends a server.
    os.kill(os.getpid(), signal.SIGKILL)


def hold():
    # Keeps this request's answer from leaving: what the test does to the
    # other server meanwhile happens with these bills committed here and
    # unknown there.
    time.sleep(HOLD_SECONDS)
