// Node test: pdq.js against Meta's reference code on the same pixels. The pixel files and the
// expected hashes are written by tests/test_pdq_js.py (which runs this file) into PDQ_FIXTURES.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pdqHash, jaroszWindow } from "../../src/redress/portal/static/js/pdq.js";

const fixtures = process.env.PDQ_FIXTURES;

function distance(a, b) {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  return bits;
}

test("window size matches the reference formula", () => {
  assert.equal(jaroszWindow(512, 64), 4);
  assert.equal(jaroszWindow(64, 64), 1);
  assert.equal(jaroszWindow(1000, 64), 8);
});

test("tiny images are refused", () => {
  assert.throws(() => pdqHash(new Uint8Array(4 * 4 * 3), 4, 4, 3), RangeError);
});

test("every reference photo hashes within 2 bits of pdqhash", { skip: !fixtures }, () => {
  const cases = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8"));
  assert.ok(cases.length >= 10, "fixtures missing");
  for (const item of cases) {
    const pixels = readFileSync(join(fixtures, item.file));
    const result = pdqHash(pixels, item.width, item.height, 3);
    const bits = distance(result.hash, item.hash);
    assert.ok(bits <= 2, `${item.name}: ${bits} bits from pdqhash (${result.hash} vs ${item.hash})`);
    assert.ok(Math.abs(result.quality - item.quality) <= 1, `${item.name}: quality ${result.quality} vs ${item.quality}`);
  }
});
