"""The addon builds as the wheel odoo-addon-k2k_network (whool, as OCA
builds its addons), installs with pip into a fresh virtual environment next
to Odoo, and Odoo finds it there."""

import ast
import os
import subprocess
import zipfile

ADDON = os.path.join(os.path.dirname(__file__), "..", "k2k_network")


def _manifest_version():
    with open(os.path.join(ADDON, "__manifest__.py")) as manifest:
        return ast.literal_eval(manifest.read())["version"]


EXPECTED_FILES = (
    "__manifest__.py",
    "__init__.py",
    "models/account_move.py",
    "models/stock_rule.py",
    "views/k2k_connection_views.xml",
    "security/ir.model.access.csv",
    "data/ir_cron.xml",
    "i18n/k2k_network.pot",
    "static/description/icon.png",
    "static/tests/tours/k2k_web_split_tour.js",
)


def _run(*args, **kwargs):
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_wheel_builds_installs_and_is_found(tmp_path):
    python = os.environ["K2K_VENV_PYTHON"]
    _run(
        python,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp_path / "dist"),
        ADDON,
    )
    (wheel,) = (tmp_path / "dist").iterdir()
    assert wheel.name.startswith(f"odoo_addon_k2k_network-{_manifest_version()}")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(
            next(n for n in names if n.endswith(".dist-info/METADATA"))
        ).decode()
    assert "Name: odoo-addon-k2k_network" in metadata
    assert "Requires-Dist: odoo==18.0.*" in metadata
    assert "License: LGPL-3" in metadata
    missing = [f for f in EXPECTED_FILES if f"odoo/addons/k2k_network/{f}" not in names]
    assert not missing, missing

    # A fresh venv "next to Odoo": Odoo from its source tree and its
    # requirements from the project's venv, as an integrator's setup has them.
    venv = tmp_path / "venv"
    base_python = _run(python, "-c", "import sys; print(sys._base_executable)").strip()
    _run(base_python, "-m", "venv", str(venv))
    fresh_python = str(venv / "bin" / "python")
    fresh_site = _run(
        fresh_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).strip()
    odoo_site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).strip()
    with open(os.path.join(fresh_site, "odoo-env.pth"), "w") as pth:
        pth.write(f"{os.environ['K2K_ODOO_SRC']}\n{odoo_site}\n")
    # --no-deps: Odoo runs from source here, not as an installed distribution.
    _run(fresh_python, "-m", "pip", "install", "--no-deps", str(wheel))
    found = _run(
        fresh_python,
        "-c",
        "import odoo\n"
        "from odoo.tools import config\n"
        "config.parse_config([])\n"
        "from odoo.modules import module\n"
        "module.initialize_sys_path()\n"
        "print(module.get_module_path('k2k_network'))\n"
        "print('k2k_network' in module.get_modules())\n",
        cwd=str(tmp_path),
    ).split()
    assert found == [os.path.join(fresh_site, "odoo", "addons", "k2k_network"), "True"]
