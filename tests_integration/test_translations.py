"""The template of translations matches the code: a string added to the code,
a view or the data without ./scripts/update-pot.sh fails here."""

import os

import polib

POT = os.path.join(
    os.path.dirname(__file__), "..", "k2k_network", "i18n", "k2k_network.pot"
)


def _msgids(path):
    return {entry.msgid for entry in polib.pofile(path) if entry.msgid}


def test_pot_is_up_to_date(odoo_cli, tmp_path):
    exported = tmp_path / "k2k_network.pot"
    odoo_cli.run(
        os.environ["K2K_TEST_DB"],
        f"--i18n-export={exported}",
        "--modules=k2k_network",
        "--language=",
    )
    fresh, committed = _msgids(exported), _msgids(POT)
    assert fresh, "the export found no term at all"
    missing, stale = sorted(fresh - committed), sorted(committed - fresh)
    assert not missing and not stale, (
        "k2k_network.pot is out of date: run ./scripts/update-pot.sh\n"
        f"missing: {missing}\nstale: {stale}"
    )
