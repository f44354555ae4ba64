# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "K2K Crash Points (tests only)",
    "summary": "Kills the server at chosen moments of a K2K exchange, for "
    "the crash test of tests_integration. Never install it elsewhere.",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "K2K Network contributors",
    "license": "LGPL-3",
    "depends": ["k2k_network"],
}
