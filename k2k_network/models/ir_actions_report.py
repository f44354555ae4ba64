# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import lxml.html
from lxml import etree

from odoo import models


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _run_wkhtmltopdf(
        self,
        bodies,
        report_ref=False,
        header=None,
        footer=None,
        landscape=False,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        # Debian's wkhtmltopdf (unpatched Qt) fails on several input
        # documents; given them as one document, a page break before each,
        # it prints them in one run, and Odoo splits the result page by
        # page when each record made one page (the caller checks that).
        if self.env.context.get("k2k_print_as_one_document") and len(bodies) > 1:
            bodies = [self._k2k_merge_bodies(bodies)]
        return super()._run_wkhtmltopdf(
            bodies,
            report_ref=report_ref,
            header=header,
            footer=footer,
            landscape=landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )

    def _k2k_merge_bodies(self, bodies):
        """One HTML document with the content of every body (each a whole
        document with the same report assets), each starting on a new page."""
        document = lxml.html.document_fromstring(bodies[0])
        target = document.body
        for body in bodies[1:]:
            other = lxml.html.document_fromstring(body)
            etree.SubElement(target, "div", style="page-break-before: always;")
            for child in list(other.body):
                target.append(child)
        return lxml.html.tostring(
            document, encoding="unicode", doctype="<!DOCTYPE html>"
        )
