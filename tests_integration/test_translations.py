"""The template of translations matches the code: a string added to the code,
a view or the data without ./scripts/update-pot.sh fails here."""

import os

import polib

POT = os.path.join(
    os.path.dirname(__file__), "..", "k2k_network", "i18n", "k2k_network.pot"
)


def _is_borrowed_model_name(entry):
    """The name of a model that k2k_network only inherits (Companies, Config
    Settings, ...): Odoo exports it under k2k_network's xml id, but its text
    is the _description of whichever installed module set it last. The test
    database holds more modules than update-pot.sh's (procurement_purchase_
    no_grouping renames res.config.settings), so that text is no term of
    k2k_network's and is left out of the comparison."""
    prefix = "model:ir.model,name:k2k_network.model_"
    return entry.occurrences and all(
        place.startswith(prefix) and not place.startswith(prefix + "k2k_")
        for place, _line in entry.occurrences
    )


def _msgids(path):
    return {
        entry.msgid
        for entry in polib.pofile(path)
        if entry.msgid and not _is_borrowed_model_name(entry)
    }


def test_pot_is_up_to_date(odoo_cli, tmp_path, test_database):
    exported = tmp_path / "k2k_network.pot"
    odoo_cli.run(
        test_database,
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
