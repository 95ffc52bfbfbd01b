"""How the project starts Debian's Chromium headless (browser tests and page benchmarks).

Never a browser downloaded by Playwright: the package `chromium` from Debian. Without the
background-networking flags Chromium keeps trying to reach hosts this machine cannot reach.
"""

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("METROPOLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
