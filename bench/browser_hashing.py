"""In-browser hashing speed: a 12 MP phone photo hashed by the portal's worker in headless
Chromium (browser decoding, 512 px canonical image, PDQ; and with the 13 bank variants), side by
side with `redress hash` in Python on the same photos. Target: under 500 ms per photo.

Needs Debian's Chromium (/usr/bin/chromium, or REDRESS_CHROMIUM) and the reference photos.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from _common import REPO, reference_dir, write_result
from hash_throughput import make_phone_photos
from redress.hashing import HashOptions, hash_file

sys.path.insert(0, str(REPO))  # the hub and browser set-up the portal tests use
from tests.hub.conftest import _migrate, hub_settings, serve
from tests.portal.conftest import CHROMIUM, CHROMIUM_ARGS

ROUNDS = 5
TIMING = """async (rounds) => {
  const hasher = window.redressPortal.hasher;
  const files = window.redressPortal.entries.map(e => e.file);
  const cold = performance.now();
  await hasher.call({op: 'image', file: files[0], variants: false});
  const first = performance.now() - cold;
  const plain = [], full = [];
  for (let r = 0; r < rounds; r++) {
    for (const file of files) {
      let t = performance.now();
      await hasher.call({op: 'image', file, variants: false});
      plain.push(performance.now() - t);
      t = performance.now();
      await hasher.call({op: 'image', file, variants: true});
      full.push(performance.now() - t);
    }
  }
  return {first, plain, full};
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of 5")
    rounds = 1 if parser.parse_args().quick else ROUNDS
    with tempfile.TemporaryDirectory() as folder:
        photos = make_phone_photos(reference_dir(), Path(folder))[:4]
        options = HashOptions(variants=True)
        python_plain, python_full = [], []
        for _ in range(rounds):
            for photo in photos:
                started = time.perf_counter()
                hash_file(photo)
                python_plain.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                hash_file(photo, options)
                python_full.append((time.perf_counter() - started) * 1000)
        database = f"sqlite:///{Path(folder) / 'hub.db'}"
        _migrate(database)
        hub_server = serve(hub_settings(database))
        hub = next(hub_server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(hub.url + "/submit")
            page.wait_for_function("() => window.redressPortal !== undefined")
            page.set_input_files("#files", [str(p) for p in photos])
            page.wait_for_function(
                "n => window.redressPortal.entries.every(e => e.state === 'ready')",
                arg=len(photos),
                timeout=120_000,
            )
            timings = page.evaluate(TIMING, rounds)
            browser.close()
        hub_server.close()
    result = {
        "quick": rounds != ROUNDS,
        "rounds": rounds,
        "photos": len(photos),
        "megapixels": 12.2,
        "browser_first_ms": round(timings["first"]),
        "browser_pdq_median_ms": round(statistics.median(timings["plain"])),
        "browser_pdq_worst_ms": round(max(timings["plain"])),
        "browser_with_variants_median_ms": round(statistics.median(timings["full"])),
        "browser_with_variants_worst_ms": round(max(timings["full"])),
        "python_pdq_median_ms": round(statistics.median(python_plain)),
        "python_with_variants_median_ms": round(statistics.median(python_full)),
    }
    write_result("browser_hashing", result)
    print("In-browser hashing, 12 MP JPEG, headless Chromium, one worker")
    print(f"  first photo (cold worker)        {result['browser_first_ms']:>5} ms")
    print(
        f"  PDQ                              {result['browser_pdq_median_ms']:>5} ms median, "
        f"{result['browser_pdq_worst_ms']} worst   (target < 500)"
    )
    print(
        f"  PDQ + 13 bank variants           {result['browser_with_variants_median_ms']:>5} ms "
        f"median, {result['browser_with_variants_worst_ms']} worst"
    )
    print(
        f"  redress hash (Python), same      {result['python_pdq_median_ms']:>5} ms / "
        f"{result['python_with_variants_median_ms']} ms with variants"
    )


if __name__ == "__main__":
    main()
