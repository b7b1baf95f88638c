"""A picture of the HTML report of a real run, as a browser shows it (for the README).

Trains a small league the way a user would (`league train` on tic-tac-toe with IQL and MAPPO),
plays a round-robin of its best snapshots and the reference bots (`league tournament`), writes
`league report`, and renders the page with headless Chromium into a PNG of the whole page.
With `--run DIR` it trains into DIR, or renders DIR as it is when it already holds a run.

    python bench/report_screenshot.py [--steps 40000] [--run DIR] [--out bench/report.png]

Chromium: `apt-get install -y chromium` (Debian/Ubuntu) or any Chrome; `--browser` names it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from league.app.report import write_report  # noqa: E402
from league.store.database import Store  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH = 1500  # CSS pixels: a laptop screen's browser window
TALL = 12_000  # the window is this tall; the page's blank bottom is cropped off


def league(*args: str) -> None:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "league.app.cli", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    print(f"  league {' '.join(args)}: {time.perf_counter() - start:.0f} s")


def screenshot(browser: str, html: Path, png: Path) -> None:
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--force-device-scale-factor=1", f"--window-size={WIDTH},{TALL}", f"--screenshot={png}",
                    html.resolve().as_uri()], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def crop_blank_bottom(png: Path, margin: int = 24) -> tuple[int, int]:
    """Cut the white space below the page's last line; returns the new size."""
    from PIL import Image, ImageChops

    image = Image.open(png).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, (255, 255, 255))).getbbox()
    if box is not None:
        image = image.crop((0, 0, image.width, min(image.height, box[3] + margin)))
    image.save(png, optimize=True)
    return image.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=None, help="train the run here, or render it if it exists (default: a "
                                                    "new run in a temporary directory)")
    parser.add_argument("--steps", type=int, default=40_000, help="env steps per learner of the new run")
    parser.add_argument("--out", default=str(ROOT / "bench" / "report.png"), help="the PNG to write")
    parser.add_argument("--html", default=None, help="also keep the report's HTML here")
    parser.add_argument("--browser", default=None, help="Chromium or Chrome executable")
    args = parser.parse_args()
    browser = args.browser or next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        sys.exit("no Chromium found; install it (apt-get install -y chromium) or pass --browser PATH.")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "ttt-demo"
        if not (run / "league.db").exists():
            print(f"training a small league into {run}:")
            league("train", "--game", "tic_tac_toe", "--algo", "iql", "--algo", "mappo", "--steps", str(args.steps),
                   "--run", str(run))
            league("tournament", "--run", str(run), "--top", "4", "--include", "baselines", "--games", "20")
        html = Path(args.html) if args.html else Path(tmp) / "report.html"
        with Store.open(run) as store:
            result = write_report(store, html)
        print(f"report: {result.plots} plots, {html.stat().st_size / 1024:.0f} KiB")
        png = Path(args.out)
        start = time.perf_counter()
        screenshot(browser, html, png)
        width, height = crop_blank_bottom(png)
        print(f"wrote {png} ({width} x {height} px, {png.stat().st_size / 1024:.0f} KiB) with {browser} in "
              f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
