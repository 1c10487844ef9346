// The hashing worker: decodes pictures, makes PDQ hashes and variants, and digests files, off the
// page's thread so the page stays responsive. Nothing here talks to the network.
import { pdqHash } from "./pdq.js";
import { Md5 } from "./md5.js";
import { MIN_SIDE, bankVariants, drawCanonical, originalHash } from "./variants.js";

class HashingProblem extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

async function hashImage(file, withVariants) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch {
    throw new HashingProblem("cannotDecode");
  }
  const started = performance.now();
  try {
    if (Math.min(bitmap.width, bitmap.height) < MIN_SIDE) throw new HashingProblem("tooSmall");
    const canonical = drawCanonical(bitmap, bitmap.width, bitmap.height);
    const original = originalHash(canonical);
    const variants = withVariants ? bankVariants(canonical) : [];
    return {
      kind: "image",
      width: bitmap.width,
      height: bitmap.height,
      original,
      variants,
      ms: performance.now() - started,
    };
  } finally {
    bitmap.close();
  }
}

async function digests(file, report) {
  const md5 = new Md5();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    md5.update(value);
    done += value.length;
    report(done / Math.max(1, file.size));
  }
  // WebCrypto's SHA-256 takes the whole file at once.
  const sha = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  const sha256 = Array.from(new Uint8Array(sha), (b) => b.toString(16).padStart(2, "0")).join("");
  return { md5: md5.hex(), sha256, bytes: file.size };
}

self.onmessage = async (event) => {
  const { id, op } = event.data;
  try {
    let result;
    if (op === "image") {
      result = await hashImage(event.data.file, event.data.variants !== false);
    } else if (op === "pixels") {
      const { pixels, width, height } = event.data;
      result = pdqHash(new Uint8ClampedArray(pixels), width, height, 4);
    } else if (op === "digests") {
      let last = 0;
      result = await digests(event.data.file, (share) => {
        if (share - last >= 0.05) {
          last = share;
          self.postMessage({ id, progress: share });
        }
      });
    } else {
      throw new HashingProblem("failed", `unknown operation ${op}`);
    }
    self.postMessage({ id, result });
  } catch (error) {
    const code = error instanceof HashingProblem ? error.code : "failed";
    self.postMessage({ id, error: { code, message: String(error && error.message) } });
  }
};
