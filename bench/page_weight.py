"""EcoIndex inputs of the home page and a commune page, measured in headless Chromium.

Page weight (bytes transferred for the HTML and every CSS, JS, image and XHR the page
loads), request count and DOM size (`document.getElementsByTagName('*').length`), then
the EcoIndex score and grade (bench/ecoindex.py). Served by gunicorn from a throwaway
SQLite install (bench/_server.py). Chromium is /usr/bin/chromium driven by the Python
`playwright` package (never `playwright install`).

    .venv/bin/python bench/page_weight.py
"""

import argparse
import gzip
import sys
import time
from collections import Counter

import ecoindex
from _common import fmt_int, table
from _server import Site

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

TEXT_TYPES = {"Document", "Stylesheet", "Script", "Fetch", "XHR"}
VIEWPORT = {"width": 1920, "height": 1080}  # the EcoIndex protocol's screen

DOM_SCRIPT = """() => {
  const all = document.getElementsByTagName('*').length;
  let insideSvg = 0;
  for (const svg of document.getElementsByTagName('svg')) {
    insideSvg += svg.getElementsByTagName('*').length;
  }
  return {all, insideSvg};
}"""


class NetworkLog:
    """Requests and transferred bytes, from the DevTools protocol (what DevTools shows)."""

    def __init__(self, cdp):
        self.requests = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.send("Network.enable")

    def _sent(self, event):
        key = event["requestId"]
        if "redirectResponse" in event and key in self.requests:  # a redirect hop: keep it
            self.requests[key + f"#{len(self.requests)}"] = self.requests.pop(key)
        self.requests[key] = {
            "url": event["request"]["url"],
            "type": event.get("type", "Other"),
            "status": None,
            "transferred": 0,
            "decoded": 0,
            "failed": False,
            "from_cache": False,
        }

    def _received(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry["status"] = event["response"]["status"]
            entry["type"] = event.get("type", entry["type"])
            entry["from_cache"] = bool(
                event["response"].get("fromDiskCache") or event["response"].get("fromPrefetchCache")
            )

    def _data(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry["decoded"] += event.get("dataLength", 0)

    def _finished(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry["transferred"] = event.get("encodedDataLength", 0)

    def _from_cache(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry["from_cache"] = True

    def _failed(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry["failed"] = True

    def network_requests(self):
        """Requests that reached the network (not data: URLs, not answered by a cache)."""
        return [
            r
            for r in self.requests.values()
            if not r["url"].startswith("data:") and not r["from_cache"]
        ]

    def cached_requests(self):
        return [r for r in self.requests.values() if r["from_cache"]]


def visit(context, url: str) -> dict:
    page = context.new_page()
    network = NetworkLog(context.new_cdp_session(page))
    page.goto(url, wait_until="networkidle")
    # The EcoIndex protocol: let the page settle, scroll to the bottom, settle again.
    page.wait_for_timeout(1000)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)
    dom = page.evaluate(DOM_SCRIPT)
    requests = network.network_requests()
    cached = network.cached_requests()
    page.close()
    return {
        "dom": dom["all"],
        "dom_without_svg": dom["all"] - dom["insideSvg"],
        "requests": requests,
        "cached": cached,
    }


def gzip_estimate(server, base_url: str, entry: dict) -> int | None:
    """gzip -6 size of a body that was sent uncompressed (text only), else None."""
    if entry["transferred"] < entry["decoded"] or entry["type"] not in TEXT_TYPES:
        return None
    if not entry["url"].startswith(base_url):
        return None
    status, body = server.get(entry["url"][len(base_url) :])
    if status != 200:
        return None
    compressed = len(gzip.compress(body, 6))
    return compressed if compressed < len(body) else None


def summarise(label: str, path: str, first: dict, repeat: dict, server) -> dict:
    requests = first["requests"]
    for entry in requests:
        entry["gzip"] = gzip_estimate(server, server.base_url, entry)
    transferred = sum(r["transferred"] for r in requests)
    size_kb = transferred / 1024
    value = ecoindex.ecoindex(first["dom"], len(requests), size_kb)
    value_no_svg = ecoindex.ecoindex(first["dom_without_svg"], len(requests), size_kb)
    # What the page would weigh if the uncompressed text responses were gzipped.
    gzipped = sum(
        r["gzip"] + (r["transferred"] - r["decoded"]) if r["gzip"] else r["transferred"]
        for r in requests
    )
    value_gzipped = ecoindex.ecoindex(first["dom"], len(requests), gzipped / 1024)
    by_type = Counter()
    count_by_type = Counter()
    for r in requests:
        by_type[r["type"]] += r["transferred"]
        count_by_type[r["type"]] += 1
    return {
        "label": label,
        "path": path,
        "dom": first["dom"],
        "dom_without_svg": first["dom_without_svg"],
        "requests": len(requests),
        "transferred": transferred,
        "decoded": sum(r["decoded"] for r in requests),
        "eco": value,
        "eco_no_svg": value_no_svg,
        "gzipped": gzipped,
        "eco_gzipped": value_gzipped,
        "cached_on_first_view": len(first["cached"]),
        "by_type": dict(by_type),
        "count_by_type": dict(count_by_type),
        "failed": [r["url"] for r in requests if r["failed"] or (r["status"] or 0) >= 400],
        "detail": sorted(requests, key=lambda r: -r["transferred"]),
        "repeat_requests": len(repeat["requests"]),
        "repeat_transferred": sum(r["transferred"] for r in repeat["requests"]),
    }


def run(log=print) -> dict:
    ecoindex.self_check()
    from playwright.sync_api import sync_playwright

    log("[page weight] preparing a throwaway SQLite install…")
    with Site("sqlite", log=log) as site, site.serve() as server:
        lille = "/communes/lille-59350/"
        status, _ = server.get(lille)
        if status != 200:
            raise RuntimeError(f"GET {lille} answered {status}")
        pages = [("Home page", "/"), ("Commune page (Lille)", lille)]
        rows = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                for label, path in pages:
                    context = browser.new_context(viewport=VIEWPORT)  # cold cache per page
                    first = visit(context, server.base_url + path)
                    time.sleep(0.5)
                    repeat = visit(context, server.base_url + path)  # same context: warm cache
                    context.close()
                    rows.append(summarise(label, path, first, repeat, server))
                    log(
                        f"  {label}: {rows[-1]['dom']} elements, {rows[-1]['requests']} requests, "
                        f"{rows[-1]['transferred'] / 1024:.1f} KB → {rows[-1]['eco']['score']} "
                        f"({rows[-1]['eco']['grade']})"
                    )
            finally:
                browser.close()
            chromium_version = browser.version if hasattr(browser, "version") else ""

    median = ecoindex.ecoindex(603, 78, 1448.32)
    main_rows = [
        [
            f"{r['label']} `{r['path']}`",
            fmt_int(r["dom"]),
            r["requests"],
            f"{r['transferred'] / 1024:.1f}",
            f"{r['decoded'] / 1024:.1f}",
            f"**{r['eco']['score']} ({r['eco']['grade']})**",
            f"{r['eco']['raw']:.1f}",
            f"{r['eco']['ghg']:.2f}",
            f"{r['eco']['water']:.2f}",
            f"{r['repeat_requests']} / {r['repeat_transferred'] / 1024:.1f}",
        ]
        for r in rows
    ]
    main_rows.append(
        [
            "Reference: the median page of the EcoIndex quantiles",
            "603",
            "78",
            "1448.3",
            "–",
            f"{median['score']} ({median['grade']})",
            f"{median['raw']:.1f}",
            f"{median['ghg']:.2f}",
            f"{median['water']:.2f}",
            "–",
        ]
    )
    md = [
        "## Page weight and EcoIndex",
        "",
        f"Headless Chromium ({chromium_version or CHROMIUM}) through Playwright, viewport "
        f"{VIEWPORT['width']}×{VIEWPORT['height']}, a new browser context (empty cache) per "
        "page; load until the network is idle, scroll to the bottom, wait again, then count. "
        "Same throwaway SQLite install and gunicorn as above. **Transferred** is what went "
        "over the wire (headers included, as DevTools counts it) for the HTML and every "
        "request the page made; **decoded** is the same bodies uncompressed. DOM = "
        "`document.getElementsByTagName('*').length` after the map has drawn. The score uses "
        "the published EcoIndex formula (quantiles of DOM / requests / KB, weights 3 / 2 / 1; "
        "bench/ecoindex.py). **Repeat view**: the same page loaded again in the same "
        "context (warm cache).",
        "",
        table(
            [
                "Page",
                "DOM elements",
                "Requests",
                "Transferred (KB)",
                "Decoded (KB)",
                "EcoIndex (grade)",
                "Unrounded",
                "GHG (gCO2e)",
                "Water (cl)",
                "Repeat view: requests / KB",
            ],
            main_rows,
        ),
    ]
    for r in rows:
        md += [
            "",
            f"**{r['label']}**, every network request of the first view, largest first. "
            f"Without the map's SVG children (as GreenIT-Analysis counts the DOM): "
            f"{r['dom_without_svg']} elements → {r['eco_no_svg']['score']} "
            f"({r['eco_no_svg']['grade']}). If the responses sent uncompressed were gzipped "
            f"(last column): {r['gzipped'] / 1024:.1f} KB → {r['eco_gzipped']['score']} "
            f"({r['eco_gzipped']['grade']})."
            + (
                f" {r['cached_on_first_view']} more request(s) answered by the browser's "
                "memory cache, not counted."
                if r["cached_on_first_view"]
                else ""
            ),
            "",
            table(
                [
                    "URL",
                    "Type",
                    "Status",
                    "Transferred (bytes)",
                    "Decoded (bytes)",
                    "Sent uncompressed; gzip -6 would be (bytes)",
                ],
                [
                    [
                        f"`{d['url'].replace(server.base_url, '')}`",
                        d["type"],
                        d["status"],
                        fmt_int(d["transferred"]),
                        fmt_int(d["decoded"]),
                        fmt_int(d["gzip"]) if d["gzip"] else "–",
                    ]
                    for d in r["detail"]
                ],
                align="llrrrr",
            ),
        ]
        if r["failed"]:
            md.append(f"\n**Failed requests**: {', '.join(r['failed'])}")
    return {"markdown": "\n".join(md), "rows": rows}


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    result = run(log=lambda m: print(m, file=sys.stderr))
    print(result["markdown"])


if __name__ == "__main__":
    main()
