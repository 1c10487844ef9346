// The canonical image and the bank variants of docs/variants.md (specification version 1), on
// canvases, so the browser sends the same hashes as `redress hash --variants`. Works in a worker
// (OffscreenCanvas) and on the page.
import { pdqHash } from "./pdq.js";

export const SPEC_VERSION = 1;
export const REDUCED_SIDE = 512;
export const MIN_SIDE = 5;
const CROPS = [25, 50, 75, 100, 125];
const ROTATIONS = [-6, -4, -2, 2, 4, 6];

/** Python's round(): halves go to the even neighbour. */
export function pyRound(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The canonical size: long side at most 512, aspect kept (Pillow's thumbnail rounding). */
export function canonicalSize(width, height, side = REDUCED_SIDE) {
  if (width <= side && height <= side) return [width, height];
  const aspect = width / height;
  if (width >= height) {
    return [side, closest(side / aspect, (h) => side / h, aspect)];
  }
  return [closest(side * aspect, (w) => w / side, aspect), side];
}

function closest(value, ratio, aspect) {
  // Pillow picks floor or ceil, whichever keeps the aspect ratio closer.
  const low = Math.max(1, Math.floor(value));
  const high = Math.max(1, Math.ceil(value));
  return Math.abs(ratio(low) - aspect) <= Math.abs(ratio(high) - aspect) ? low : high;
}

/** Crop boxes [left, top, right, bottom] of the bank variants, in specification order. */
export function cropBoxes(width, height) {
  const boxes = CROPS.map((p) => {
    const dx = pyRound((width * p) / 1000);
    const dy = pyRound((height * p) / 1000);
    return { name: `crop${String(p).padStart(3, "0")}`, box: [dx, dy, width - dx, height - dy] };
  });
  const kept = pyRound(height * 0.85);
  boxes.push({ name: "top85", box: [0, 0, width, kept] });
  boxes.push({ name: "bottom85", box: [0, height - kept, width, height] });
  return boxes;
}

/** The size Pillow's rotate(degrees, expand=True) gives. */
export function rotatedSize(width, height, degrees) {
  const angle = -((((degrees % 360) + 360) % 360) * Math.PI) / 180;
  const r15 = (x) => Math.round(x * 1e15) / 1e15;
  const [a, b, d, e] = [r15(Math.cos(angle)), r15(Math.sin(angle)), r15(-Math.sin(angle)), r15(Math.cos(angle))];
  const cx = width / 2;
  const cy = height / 2;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;
  const xs = [];
  const ys = [];
  for (const [x, y] of [[0, 0], [width, 0], [width, height], [0, height]]) {
    xs.push(a * x + b * y + c);
    ys.push(d * x + e * y + f);
  }
  return [
    Math.ceil(Math.max(...xs)) - Math.floor(Math.min(...xs)),
    Math.ceil(Math.max(...ys)) - Math.floor(Math.min(...ys)),
  ];
}

function canvas(width, height) {
  const surface = new OffscreenCanvas(width, height);
  const context = surface.getContext("2d", { willReadFrequently: true });
  return [surface, context];
}

function hashCanvas(context, width, height) {
  return pdqHash(context.getImageData(0, 0, width, height).data, width, height, 4);
}

/**
 * Draw a decoded picture (ImageBitmap, canvas, video frame) as the canonical image: upright, on
 * white (transparency), long side at most 512 px. Returns {canvas, context, width, height}.
 */
export function drawCanonical(source, sourceWidth, sourceHeight) {
  const [width, height] = canonicalSize(sourceWidth, sourceHeight);
  const [surface, context] = canvas(width, height);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, width, height);
  return { canvas: surface, context, width, height };
}

/** PDQ of the canonical image: {hash, quality}. */
export function originalHash(canonical) {
  return hashCanvas(canonical.context, canonical.width, canonical.height);
}

/** The 13 bank variants of a canonical image, in order: [{variant, hash, quality}]. */
export function bankVariants(canonical) {
  const { canvas: source, width, height } = canonical;
  const out = [];
  for (const { name, box } of cropBoxes(width, height)) {
    const [left, top, right, bottom] = box;
    const w = right - left;
    const h = bottom - top;
    const [, context] = canvas(w, h);
    context.drawImage(source, left, top, w, h, 0, 0, w, h);
    out.push({ variant: name, ...hashCanvas(context, w, h) });
  }
  for (const degrees of ROTATIONS) {
    const [w, h] = rotatedSize(width, height, degrees);
    const [, context] = canvas(w, h);
    context.fillStyle = "#000";
    context.fillRect(0, 0, w, h);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.translate(w / 2, h / 2);
    context.rotate((-degrees * Math.PI) / 180); // Pillow turns counter-clockwise; canvas clockwise
    context.drawImage(source, -width / 2, -height / 2);
    out.push({ variant: `rotate${degrees > 0 ? "+" : ""}${degrees}`, ...hashCanvas(context, w, h) });
  }
  return out;
}
