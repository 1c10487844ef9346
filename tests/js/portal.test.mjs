// Node tests for the portal's hashing helpers: MD5 against Python's hashlib, and the variant
// geometry (Python's rounding, Pillow's thumbnail size and rotate(expand=True) size, crop boxes)
// against values Python computed. Expectations come from tests/test_portal_js.py (PORTAL_FIXTURES).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Md5 } from "../../src/redress/portal/static/js/md5.js";
import {
  canonicalSize,
  cropBoxes,
  pyRound,
  rotatedSize,
} from "../../src/redress/portal/static/js/variants.js";

const fixtures = process.env.PORTAL_FIXTURES;
const expected = fixtures ? JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) : null;

test("MD5 of the RFC 1321 test suite", () => {
  const md5 = (text) => new Md5().update(new TextEncoder().encode(text)).hex();
  assert.equal(md5(""), "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  assert.equal(
    md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
    "57edf4a22be3c955ac49da2e2107b67a",
  );
});

test("MD5 of files fed in uneven chunks equals hashlib", { skip: !expected }, () => {
  assert.ok(expected.files.length >= 2, "fixtures missing");
  for (const { file, md5 } of expected.files) {
    const bytes = readFileSync(join(fixtures, file));
    const digest = new Md5();
    let offset = 0;
    for (const size of [1, 63, 64, 65, 1000, 4096]) {
      digest.update(bytes.subarray(offset, offset + size));
      offset += size;
    }
    digest.update(bytes.subarray(offset));
    assert.equal(digest.hex(), md5, file);
  }
});

test("geometry agrees with Python and Pillow", { skip: !expected }, () => {
  for (const [x, rounded] of expected.rounding) assert.equal(pyRound(x), rounded, `round(${x})`);
  for (const { size, thumbnail, rotated, crops } of expected.sizes) {
    assert.deepEqual(canonicalSize(...size), thumbnail, `thumbnail of ${size}`);
    for (const [degrees, want] of rotated) {
      assert.deepEqual(rotatedSize(...size, degrees), want, `rotate ${degrees} of ${size}`);
    }
    assert.deepEqual(
      cropBoxes(...size).map((c) => [c.name, c.box]),
      crops,
      `crops of ${size}`,
    );
  }
});
