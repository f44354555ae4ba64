"""Drive headless Chromium (DevTools protocol) through a running K2K demo
and save the README's pictures. Called by scripts/screenshots.sh."""

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

DEBUG_PORT = 9339


class Browser:
    def __init__(self, base_url):
        self.base_url = base_url
        self.profile = tempfile.mkdtemp(prefix="k2k-shots-")
        self.proc = subprocess.Popen(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={DEBUG_PORT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{DEBUG_PORT}/json"
                ) as answer:
                    tabs = json.load(answer)
                break
            except OSError:
                time.sleep(0.2)
        page = next(tab for tab in tabs if tab["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.counter = 0
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=1400,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method, **params):
        self.counter += 1
        self.ws.send(
            json.dumps({"id": self.counter, "method": method, "params": params})
        )
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.counter:
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                time.sleep(1.0)  # let the last rendering settle
                return
            time.sleep(0.5)
        raise TimeoutError(f"{selector} did not appear")

    def open(self, path, selector):
        self.call("Page.navigate", url=self.base_url + path)
        self.wait_for(selector)

    def login(self, login, password):
        self.open("/web/login", "form.oe_login_form")
        self.evaluate(
            f"document.querySelector('#login').value = {json.dumps(login)};"
            f"document.querySelector('#password').value = {json.dumps(password)};"
            "document.querySelector('form.oe_login_form').submit();"
        )
        self.wait_for(".o_main_navbar")

    def shoot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as picture:
            picture.write(base64.b64decode(data))
        print(f"saved {path}")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--companies", required=True, help="company ids, dash-separated"
    )
    parser.add_argument("--connection", required=True)
    parser.add_argument("--bill", required=True)
    parser.add_argument("--disputed-bill", required=True)
    args = parser.parse_args()
    cids = f"cids={args.companies}"
    browser = Browser(args.url)
    try:
        browser.login("admin", "admin")
        browser.open(f"/odoo/settings?{cids}#k2k_network", "#k2k_invoice_sync")
        browser.evaluate("document.querySelector('#k2k_invoice_sync').scrollIntoView()")
        time.sleep(1)
        browser.shoot(f"{args.out}/settings.png")
        browser.open(
            f"/odoo/action-k2k_network.k2k_connection_action/{args.connection}?{cids}",
            ".o_form_view .alert-success",
        )
        browser.shoot(f"{args.out}/connection.png")
        browser.open(
            f"/odoo/action-k2k_network.action_k2k_bills_pending/{args.bill}?{cids}",
            ".o_form_view .alert-warning",
        )
        browser.shoot(f"{args.out}/bill_updated_by_vendor.png")
        browser.open(
            f"/odoo/action-k2k_network.action_k2k_web_purchase_orders?{cids}",
            ".o_list_view .o_data_row",
        )
        browser.shoot(f"{args.out}/web_order_purchase_orders.png")
        browser.open(
            f"/odoo/action-account.action_move_out_invoice_type?{cids}",
            ".o_list_view td[name='k2k_buyer_status'] .badge",
        )
        browser.shoot(f"{args.out}/vendor_invoices_at_buyer.png")
        browser.open(
            f"/odoo/action-k2k_network.action_k2k_bills_pending/{args.disputed_bill}"
            f"?{cids}",
            ".o_form_view .alert-danger",
        )
        browser.shoot(f"{args.out}/bill_disputed.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
