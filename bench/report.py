"""Turn the benchmark's JSON lines into a markdown table and a PNG chart.

    python bench/report.py results.jsonl report.md chart.png

The chart is drawn with Pillow (already in Odoo's requirements), so the
benchmark needs nothing beyond Odoo's own environment.
"""

import json
import sys

from PIL import Image, ImageDraw, ImageFont

GOAL_POSTING_RATIO = 1.10
GOAL_SPEEDUP = 5.0
GOAL_QUERIES = 60
GOAL_WEB_RATIO = 1.05


def load(path):
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def pick(results, **keys):
    return [r for r in results if all(r.get(k) == v for k, v in keys.items())]


def verdict(ok):
    return "met" if ok else "NOT met"


def _sync_section(results, goals):
    sync = pick(results, bench="invoice_sync")
    sizes = sorted({r["n"] for r in sync})
    out = [
        "### Invoice sync in one database (5 lines, PDF rendered by wkhtmltopdf)",
        "",
        "| N | k2k_network median ms | p95 ms | queries/bill | OCA median ms | "
        "p95 ms | queries/bill | speed-up (median) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    speedups, query_counts = [], []
    for n in sizes:
        ours = pick(sync, impl="k2k_network", n=n)
        oca = pick(sync, impl="oca", n=n)
        row = [str(n)]
        for entry in (ours, oca):
            times = entry[0]["end_to_end_ms"] if entry else None
            row += (
                [
                    f"{times['median']:.0f}",
                    f"{times['p95']:.0f}",
                    f"{entry[0]['queries_per_bill']:.0f}",
                ]
                if entry
                else ["-", "-", "-"]
            )
        if ours and oca:
            speedup = (
                oca[0]["end_to_end_ms"]["median"] / ours[0]["end_to_end_ms"]["median"]
            )
            speedups.append(speedup)
            row.append(f"{speedup:.1f}x")
        else:
            row.append("-")
        if ours:
            query_counts.append(ours[0]["queries_per_bill"])
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    native = [
        r["odoo_bill_from_po_queries"] for r in sync if "odoo_bill_from_po_queries" in r
    ]
    if native:
        out += [
            "For scale: Odoo's own *Create Bill* on one of these 5-line purchase "
            f"orders takes {min(native):.0f} queries; a K2K bill is that bill (made "
            "through the same purchase order methods) plus its PDF, its chatter "
            "notes and the message's bookkeeping. The OCA module's bill has no "
            "purchase order link.",
            "",
        ]
    if speedups:
        goals.append(
            (
                f"end to end >= {GOAL_SPEEDUP:.0f}x faster than OCA",
                f"{min(speedups):.1f}x (lowest over N)",
                min(speedups) >= GOAL_SPEEDUP,
            )
        )
    if query_counts:
        goals.append(
            (
                f"<= {GOAL_QUERIES} queries per bill, N = {sizes[0]}..{sizes[-1]}",
                f"{min(query_counts):.0f}..{max(query_counts):.0f}",
                max(query_counts) <= GOAL_QUERIES,
            )
        )
    return out


def _posting_section(results, goals):
    posting = pick(results, bench="posting")
    out = [
        "### Posting latency (the vendor's action_post: what the person posting "
        "waits for)",
        "",
        "| | median ms | p95 ms | queries |",
        "| --- | --- | --- | --- |",
    ]
    labels = {
        ("k2k_network", False): "k2k_network, automation 1 off",
        ("k2k_network", True): "k2k_network, automation 1 on",
        ("oca", False): "OCA module, customer that is no company (no sync)",
        ("oca", True): "OCA module, intercompany invoice (bill + PDF inside)",
    }
    for (impl, sync_on), label in labels.items():
        for e in pick(posting, impl=impl, sync=sync_on):
            out.append(
                f"| {label} | {e['ms']['median']:.1f} | {e['ms']['p95']:.1f} | "
                f"{e['queries']['median']:.0f} |"
            )
    on = pick(posting, impl="k2k_network", sync=True)
    off = pick(posting, impl="k2k_network", sync=False)
    if on and off:
        ratio = on[0]["ms"]["median"] / off[0]["ms"]["median"]
        out.append(f"| k2k_network on / off | {ratio:.2f}x | | |")
        goals.append(
            (
                f"posting on/off <= {GOAL_POSTING_RATIO:.2f}x",
                f"{ratio:.2f}x",
                ratio <= GOAL_POSTING_RATIO,
            )
        )
    out.append("")
    return out


def _web_section(results, goals):
    web = pick(results, bench="web_orders")
    if not web:
        return []
    labels = {
        "off": "off: joins the open purchase order (Odoo's consolidation)",
        "on": "on: a purchase order of its own",
        "off_new": "off, no open purchase order: Odoo creates one itself",
    }
    out = [
        "### Web-shop orders procured (action_confirm of a web order)",
        "",
        "| automation 3 | orders | median ms | p95 ms | queries | purchase orders |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    by_kind = {}
    for e in web:
        kind = e.get("kind") or ("on" if e["split"] else "off")
        by_kind[kind] = e
    for kind, label in labels.items():
        e = by_kind.get(kind)
        if e:
            out.append(
                f"| {label} | {e['n']} | {e['ms']['median']:.1f} | "
                f"{e['ms']['p95']:.1f} | {e['queries']['median']:.0f} | "
                f"{e['purchase_orders']} |"
            )
    on, off, new = (by_kind.get(k) for k in ("on", "off", "off_new"))
    ratio_new = None
    if on and new:
        ratio_new = on["ms"]["median"] / new["ms"]["median"]
    if on and off:
        ratio = on["ms"]["median"] / off["ms"]["median"]
        out.append(f"| on / off (consolidation) | | {ratio:.2f}x | | | |")
        measured = f"{ratio:.2f}x"
        if ratio_new is not None:
            measured += (
                f" (a new purchase order costs Odoo itself "
                f"{new['ms']['median'] / off['ms']['median']:.2f}x; "
                f"split / Odoo's own new order: {ratio_new:.2f}x)"
            )
        goals.append(
            (
                "web-shop split within 5% of Odoo's consolidation",
                measured,
                ratio <= GOAL_WEB_RATIO,
            )
        )
    if ratio_new is not None:
        out.append(f"| on / Odoo's own new purchase order | | {ratio_new:.2f}x | | | |")
    out.append("")
    return out


def _cross_section(results):
    cross = pick(results, bench="cross_db")
    if not cross:
        return []
    out = [
        "### Across two databases (two Odoo servers on loopback, HTTP)",
        "",
        "| invoices | posting all (s) | until the last bill (s) | invoices/s |",
        "| --- | --- | --- | --- |",
    ]
    for e in cross:
        out.append(
            f"| {e['n']} | {e['post_all_s']:.1f} | {e['until_last_bill_s']:.1f} | "
            f"{e['invoices_per_s']:.1f} |"
        )
    return out + [""]


def markdown(results):
    goals = []
    out = _sync_section(results, goals)
    out += _posting_section(results, goals)
    out += _web_section(results, goals)
    out += _cross_section(results)
    out += ["### Goals", "", "| goal | measured | |", "| --- | --- | --- |"]
    out += [f"| {goal} | {value} | {verdict(ok)} |" for goal, value, ok in goals]
    return "\n".join(out) + "\n"


def chart(results, path):
    """Grouped bars: median end-to-end ms per invoice, k2k_network and OCA,
    for each N (log scale would hide nothing here: the bars are labelled)."""
    sync = pick(results, bench="invoice_sync")
    sizes = sorted({r["n"] for r in sync})
    bars = []
    for n in sizes:
        for impl, colour in (("k2k_network", (46, 125, 50)), ("oca", (198, 40, 40))):
            entry = pick(sync, impl=impl, n=n)
            if entry:
                bars.append((n, impl, entry[0]["end_to_end_ms"]["median"], colour))
    width, height, margin = 900, 520, 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text(
        (margin, 15),
        "Posted vendor invoice -> buyer bill with PDF: median ms per invoice "
        "(lower is better)",
        fill="black",
        font=font,
    )
    top = max((b[2] for b in bars), default=1) * 1.15
    plot_h = height - 2 * margin
    draw.line((margin, height - margin, width - 20, height - margin), fill="black")
    draw.line((margin, margin, margin, height - margin), fill="black")
    for step in range(6):
        value = top * step / 5
        y = height - margin - plot_h * step / 5
        draw.line((margin - 5, y, width - 20, y), fill=(225, 225, 225))
        draw.text((8, y - 6), f"{value:.0f}", fill="black", font=font)
    group_w = (width - margin - 40) / max(len(sizes), 1)
    bar_w = group_w / 3
    for index, n in enumerate(sizes):
        x0 = margin + 10 + index * group_w
        draw.text(
            (x0 + bar_w * 0.6, height - margin + 10),
            f"N = {n}",
            fill="black",
            font=font,
        )
        for offset, (_n, _impl, value, colour) in enumerate(
            b for b in bars if b[0] == n
        ):
            left = x0 + offset * bar_w * 1.1
            y = height - margin - plot_h * value / top
            draw.rectangle((left, y, left + bar_w, height - margin), fill=colour)
            draw.text((left, y - 14), f"{value:.0f}", fill="black", font=font)
    legend_y = height - margin + 35
    for i, (label, colour) in enumerate(
        (
            ("k2k_network", (46, 125, 50)),
            ("OCA account_invoice_inter_company", (198, 40, 40)),
        )
    ):
        x = margin + i * 300
        draw.rectangle((x, legend_y, x + 14, legend_y + 14), fill=colour)
        draw.text((x + 20, legend_y + 2), label, fill="black", font=font)
    image.save(path)


if __name__ == "__main__":
    data = load(sys.argv[1])
    text = markdown(data)
    with open(sys.argv[2], "w", encoding="utf-8") as stream:
        stream.write(text)
    chart(data, sys.argv[3])
    print(text)
