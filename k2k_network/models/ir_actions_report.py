# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import functools
import subprocess
import threading
import uuid

import lxml.html
import psutil
from lxml import etree

from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin


@functools.cache
def _wkhtmltopdf_prints_several_documents():
    """Only a wkhtmltopdf built with its patched Qt prints several HTML
    documents into one PDF; Debian's (unpatched Qt) fails on it, so there
    they are given to it as one document (see ``_run_wkhtmltopdf``)."""
    try:
        version = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return False
    return "with patched qt" in version


class K2KPdfNotMade(UserError):
    """A K2K PDF run gave no PDF: its messages are tried again later."""


class K2KPdfTimeout(K2KPdfNotMade):
    """A K2K PDF run did not finish within its deadline and was stopped."""


class _K2KRenderWatch:
    """Stops the wkhtmltopdf run of this process marked with ``token`` once
    it has run ``seconds``: wkhtmltopdf has no deadline of its own and waits
    as long as a server it loads the report's styles from keeps silent.
    Used as a context manager around the run."""

    def __init__(self, token, seconds):
        self.token = token
        self.seconds = seconds
        self.stopped = False
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="k2k-pdf-deadline", daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()

    def _watch(self):
        if self._done.wait(self.seconds):
            return
        # Until the run returns: it may start after the deadline passed.
        while not self._done.is_set():
            self._stop_run()
            self._done.wait(0.5)

    def _stop_run(self):
        for process in psutil.Process().children(recursive=True):
            try:
                if self.token in process.cmdline():
                    process.kill()
                    self.stopped = True
            except psutil.Error:
                continue  # ended meanwhile, or not ours to read


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _run_wkhtmltopdf(self, bodies, *args, **kwargs):
        # Debian's wkhtmltopdf (unpatched Qt) fails on several input
        # documents; given them as one document, a page break before each,
        # it prints them in one run, and Odoo splits the result page by
        # page when each record made one page (the caller checks that).
        if self.env.context.get("k2k_print_as_one_document") and len(bodies) > 1:
            bodies = [self._k2k_merge_bodies(bodies)]
        seconds = self.env.context.get("k2k_pdf_timeout")
        if not seconds:
            return super()._run_wkhtmltopdf(bodies, *args, **kwargs)
        # The run is marked (see _build_wkhtmltopdf_args) so that the watch
        # stops this one, not another report rendered meanwhile.
        token = f"k2k-{uuid.uuid4().hex}"
        marked = super(IrActionsReport, self.with_context(k2k_pdf_run=token))
        watch = _K2KRenderWatch(token, seconds)
        try:
            with watch:
                content = marked._run_wkhtmltopdf(bodies, *args, **kwargs)
        except UserError as error:
            if watch.stopped:
                raise self._k2k_pdf_timeout_error(seconds) from error
            raise
        if watch.stopped:
            # Killed as it ended: what it wrote may be incomplete.
            raise self._k2k_pdf_timeout_error(seconds)
        if not content.startswith(b"%PDF"):
            # Odoo accepts wkhtmltopdf's exit code 1 (a resource it could not
            # load), after which it may have written nothing: said here,
            # before Odoo reads it as a PDF (an empty one fails there in
            # errors of PyPDF2's own).
            raise self._k2k_pdf_not_made_error()
        return content

    @api.model
    def _build_wkhtmltopdf_args(self, *args, **kwargs):
        command_args = super()._build_wkhtmltopdf_args(*args, **kwargs)
        token = self.env.context.get("k2k_pdf_run")
        if token:
            # A cookie nobody reads: it only names the run in its command line.
            command_args += ["--cookie", "k2k_pdf_run", token]
        return command_args

    def _k2k_pdf_timeout_error(self, seconds):
        return K2KPdfTimeout(
            self.env._(
                "The PDF was not made within %(seconds)s seconds: stopped. Check "
                "that the address the reports load their styles from "
                "(%(url)s) answers.",
                seconds=seconds,
                url=self._get_report_url(),
            )
        )

    def _k2k_pdf_not_made_error(self):
        return K2KPdfNotMade(
            self.env._(
                "wkhtmltopdf ended without a PDF. Check that the address the "
                "reports load their styles from (%(url)s) answers.",
                url=self._get_report_url(),
            )
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

    # -- invoice PDFs for K2K messages, in batches ---------------------------

    @api.model
    def _k2k_get_pdf_timeout(self):
        """Seconds one PDF run for K2K messages may take before it is stopped
        and its messages tried again later."""
        return self.env["k2k.message"]._k2k_get_setting("k2k_network.pdf_timeout", 60)

    @api.model
    def _k2k_get_invoice_pdfs(self, moves):
        """The PDF of each invoice, as ``{move id: ir.attachment}``: the one
        the vendor already has, else rendered for all the others of a company
        in as few wkhtmltopdf runs as possible."""
        result = {}
        to_render = moves.filtered(lambda m: not m.invoice_pdf_report_id)
        for move in moves - to_render:
            result[move.id] = move.invoice_pdf_report_id
        for company in to_render.company_id:
            result.update(
                self._k2k_render_invoice_pdfs(
                    to_render.filtered(lambda m, c=company: m.company_id == c)
                )
            )
        return result

    @api.model
    def _k2k_render_invoice_pdfs(self, moves):
        """Render the PDFs of ``moves`` (invoices of one company); return
        ``{move id: ir.attachment}``."""
        content_by_id, is_pdf = self._k2k_render_invoice_contents(moves)
        vals_list = []
        for move in moves:
            vals = {
                "name": move._get_invoice_report_filename("pdf" if is_pdf else "html"),
                "raw": content_by_id[move.id],
                "mimetype": "application/pdf" if is_pdf else "text/html",
                "res_model": move._name,
                "res_id": move.id,
            }
            if is_pdf:
                # It becomes the vendor's own invoice PDF, which Odoo then
                # reuses (Send & Print) instead of rendering it again.
                vals["res_field"] = "invoice_pdf_report_file"
            vals_list.append(vals)
        attachments = self.env["ir.attachment"].create(vals_list)
        moves.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return dict(zip(moves.ids, attachments, strict=True))

    @api.model
    def _k2k_render_invoice_contents(self, moves):
        """``({move id: bytes}, is_pdf)`` for ``moves``, in one wkhtmltopdf
        run when it can be split back into invoices.

        A wkhtmltopdf with patched Qt prints the invoices as several
        documents and Odoo splits them by their outlines; Debian's prints
        them as one document, which Odoo splits page by page only when each
        invoice made exactly one page. When one made more, the batch is
        halved until every part can be split (an invoice alone always can).
        """
        report_name = "account.account_invoices"
        Report = self.with_company(moves.company_id).with_context(
            k2k_print_as_one_document=len(moves) > 1
            and not _wkhtmltopdf_prints_several_documents(),
            k2k_pdf_timeout=self._k2k_get_pdf_timeout(),
        )
        content, report_type = Report._pre_render_qweb_pdf(
            report_name, res_ids=moves.ids
        )
        if report_type != "pdf":
            # Odoo's test mode renders HTML instead of PDF.
            return Report._get_splitted_report(report_name, content, report_type), False
        if all((content.get(move_id) or {}).get("stream") for move_id in moves.ids):
            content.pop(False, None)
            return Report._get_splitted_report(report_name, content, report_type), True
        if len(moves) == 1:
            raise UserError(
                self.env._(
                    "The PDF of %(invoice)s could not be made.", invoice=moves.name
                )
            )
        half = len(moves) // 2
        first, is_pdf = self._k2k_render_invoice_contents(moves[:half])
        second, _is_pdf = self._k2k_render_invoice_contents(moves[half:])
        return {**first, **second}, is_pdf
