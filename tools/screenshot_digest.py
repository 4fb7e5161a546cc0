"""A full-page screenshot of a digest in headless Chromium (the README's docs/digest.png).

    python tools/screenshot_digest.py PATH/TO/digest.html docs/digest.png [--width 600]

Uses Debian's Chromium and chromedriver (``apt-get install chromium chromium-driver``),
driven by selenium; nothing is downloaded. The page is laid out ``--width`` CSS pixels
wide (600: a mail client's width), images are waited for, and the screenshot covers the
page from the top down to ``--max-height`` pixels (0: the whole page). The PNG is
re-compressed (Pillow, 256 colours unless ``--colors 0``) and written atomically.

``start_chrome`` and ``load`` are shared with tests/test_browser.py.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import shutil
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from transforms.files import atomic_write

WAIT_S = 15.0

# Every <img> scrolled into view once (so loading="lazy" ones load too), then: are all done?
_IMAGES_SETTLED = """
const imgs = Array.from(document.images);
if (!window.__ptScrolled) {
  imgs.forEach(i => i.scrollIntoView());
  window.scrollTo(0, 0);
  window.__ptScrolled = true;
}
return document.readyState === 'complete' && imgs.every(i => i.complete);
"""


def browser_paths() -> tuple[str | None, str | None]:
    """Chromium and chromedriver on PATH (Debian: /usr/bin/chromium, /usr/bin/chromedriver)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    return binary, shutil.which("chromedriver")


def start_chrome(width: int = 600, height: int = 900) -> webdriver.Chrome:
    """Headless Chromium whose page is ``width`` CSS pixels wide (window.innerWidth)."""
    binary, driver_path = browser_paths()
    if not binary or not driver_path:
        raise RuntimeError(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",  # the page gets the whole width, as in a mail client's pane
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    # An explicit driver path: without it Selenium Manager tries to download one.
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        inner = driver.execute_script("return window.innerWidth")
        if inner != width:  # a window frame: grow the window by it
            size = driver.get_window_size()
            driver.set_window_size(size["width"] + width - inner, size["height"])
    except BaseException:
        driver.quit()
        raise
    return driver


def load(driver: webdriver.Chrome, page: str | Path) -> None:
    """Open a file or URL and wait until the document and every image have loaded."""
    driver.get(Path(page).resolve().as_uri() if isinstance(page, Path) else page)
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script(_IMAGES_SETTLED))


def _compress(png: bytes, colors: int) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if colors:
        image = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def screenshot(driver: webdriver.Chrome, max_height: int = 0, colors: int = 256) -> bytes:
    """The loaded page as PNG from the top, the page's full width, at most max_height tall."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = driver.execute_script("return document.documentElement.clientWidth")
    height = math.ceil(metrics["cssContentSize"]["height"])
    if max_height:
        height = min(height, max_height)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    return _compress(base64.b64decode(shot["data"]), colors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="the digest.html to render")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=600, help="CSS pixels (default 600)")
    parser.add_argument(
        "--max-height", type=int, default=0, help="crop below this many pixels (0: none)"
    )
    parser.add_argument(
        "--colors", type=int, default=256, help="palette size of the PNG (0: full colour)"
    )
    args = parser.parse_args(argv)
    if not args.page.is_file():
        parser.error(f"no such file: {args.page}")
    try:
        driver = start_chrome(args.width)
    except RuntimeError as exc:
        print(f"screenshot_digest: {exc}", file=sys.stderr)
        return 1
    try:
        load(driver, args.page)
        png = screenshot(driver, args.max_height, args.colors)
    finally:
        driver.quit()
    atomic_write(args.out, png)
    print(f"{args.out}: {len(png) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
