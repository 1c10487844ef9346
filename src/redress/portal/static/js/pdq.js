// PDQ perceptual hash (Meta's published algorithm), for hashing on the survivor's own device.
//
// Written for Redress from the algorithm's description: luma, two passes of a Jarosz box filter
// in each direction, decimation to 64x64, a 16x16 DCT of its lowest frequencies, and one bit per
// coefficient above the median. `pdqHash` on the same RGB(A) pixels agrees with Meta's reference
// code (`pdqhash`) within a couple of bits (floating-point ties).

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;
const DOWNSAMPLE = 64;
const DCT_SIZE = 16;

// DCT basis: rows are frequencies 1..16 (the DC term is left out), columns the 64 samples.
const DCT = (() => {
  const matrix = new Float64Array(DCT_SIZE * DOWNSAMPLE);
  const scale = Math.sqrt(2 / DOWNSAMPLE);
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DOWNSAMPLE; j++) {
      matrix[i * DOWNSAMPLE + j] =
        scale * Math.cos((Math.PI / 2 / DOWNSAMPLE) * (i + 1) * (2 * j + 1));
    }
  }
  return matrix;
})();

/** Box-filter window size for reducing `oldSize` samples to `newSize`. */
export function jaroszWindow(oldSize, newSize) {
  return Math.floor((oldSize + 2 * newSize - 1) / (2 * newSize));
}

/** One-dimensional running-mean box filter along `length` samples spaced `stride` apart. */
function box1d(input, output, start, length, stride, window) {
  const half = Math.floor((window + 2) / 2);
  const phase1 = half - 1;
  const phase2 = window - half + 1;
  const phase3 = length - window;
  const phase4 = half - 1;
  let li = start;
  let ri = start;
  let oi = start;
  let sum = 0;
  let count = 0;
  for (let k = 0; k < phase1; k++) {
    sum += input[ri];
    count++;
    ri += stride;
  }
  for (let k = 0; k < phase2; k++) {
    sum += input[ri];
    count++;
    output[oi] = sum / count;
    ri += stride;
    oi += stride;
  }
  for (let k = 0; k < phase3; k++) {
    sum += input[ri];
    sum -= input[li];
    output[oi] = sum / count;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (let k = 0; k < phase4; k++) {
    sum -= input[li];
    count--;
    output[oi] = sum / count;
    li += stride;
    oi += stride;
  }
}

function jaroszFilter(buffer, scratch, rows, cols, windowAlongRows, windowAlongCols) {
  for (let rep = 0; rep < 2; rep++) {
    for (let r = 0; r < rows; r++) box1d(buffer, scratch, r * cols, cols, 1, windowAlongRows);
    for (let c = 0; c < cols; c++) box1d(scratch, buffer, c, rows, cols, windowAlongCols);
  }
}

/** Luma (float) of RGB or RGBA pixels, row-major. */
export function luma(pixels, width, height, channels) {
  const out = new Float64Array(width * height);
  for (let p = 0, q = 0; p < out.length; p++, q += channels) {
    out[p] = LUMA_R * pixels[q] + LUMA_G * pixels[q + 1] + LUMA_B * pixels[q + 2];
  }
  return out;
}

/** The 64x64 downsample of a luma image, as PDQ computes it. */
export function downsample(lumaValues, width, height) {
  const scratch = new Float64Array(width * height);
  const buffer = Float64Array.from(lumaValues);
  jaroszFilter(
    buffer,
    scratch,
    height,
    width,
    jaroszWindow(width, DOWNSAMPLE),
    jaroszWindow(height, DOWNSAMPLE),
  );
  const out = new Float64Array(DOWNSAMPLE * DOWNSAMPLE);
  for (let i = 0; i < DOWNSAMPLE; i++) {
    const row = Math.floor(((i + 0.5) * height) / DOWNSAMPLE);
    for (let j = 0; j < DOWNSAMPLE; j++) {
      const col = Math.floor(((j + 0.5) * width) / DOWNSAMPLE);
      out[i * DOWNSAMPLE + j] = buffer[row * width + col];
    }
  }
  return out;
}

/** PDQ's quality metric (0-100): how much the 64x64 image varies. */
export function quality(small) {
  let gradient = 0;
  for (let i = 0; i < DOWNSAMPLE - 1; i++) {
    for (let j = 0; j < DOWNSAMPLE; j++) {
      const d = ((small[i * DOWNSAMPLE + j] - small[(i + 1) * DOWNSAMPLE + j]) * 100) / 255;
      gradient += Math.trunc(Math.abs(d));
    }
  }
  for (let i = 0; i < DOWNSAMPLE; i++) {
    for (let j = 0; j < DOWNSAMPLE - 1; j++) {
      const d = ((small[i * DOWNSAMPLE + j] - small[i * DOWNSAMPLE + j + 1]) * 100) / 255;
      gradient += Math.trunc(Math.abs(d));
    }
  }
  return Math.min(100, Math.trunc(gradient / 90));
}

/** The 16x16 low-frequency DCT of the 64x64 image: DCT * A * DCT^T. */
export function dct16(small) {
  const temp = new Float64Array(DCT_SIZE * DOWNSAMPLE);
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DOWNSAMPLE; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLE; k++) {
        sum += DCT[i * DOWNSAMPLE + k] * small[k * DOWNSAMPLE + j];
      }
      temp[i * DOWNSAMPLE + j] = sum;
    }
  }
  const out = new Float64Array(DCT_SIZE * DCT_SIZE);
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DCT_SIZE; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLE; k++) {
        sum += temp[i * DOWNSAMPLE + k] * DCT[j * DOWNSAMPLE + k];
      }
      out[i * DCT_SIZE + j] = sum;
    }
  }
  return out;
}

/** The 256-bit hash as 64 lowercase hex digits: row 15 first, bit j of row i = column j. */
export function hashHex(coefficients) {
  const sorted = Float64Array.from(coefficients).sort();
  const median = sorted[127]; // the lower middle value, as the reference's Torben median
  let hex = "";
  for (let i = DCT_SIZE - 1; i >= 0; i--) {
    let word = 0;
    for (let j = 0; j < DCT_SIZE; j++) {
      if (coefficients[i * DCT_SIZE + j] > median) word |= 1 << j;
    }
    hex += word.toString(16).padStart(4, "0");
  }
  return hex;
}

/**
 * PDQ of an image given as RGB (channels 3) or RGBA (channels 4, e.g. canvas ImageData) pixels.
 * Returns {hash: 64 hex digits, quality: 0-100}. Quality under 50 means too flat to trust.
 */
export function pdqHash(pixels, width, height, channels = 4) {
  if (width < 5 || height < 5) {
    throw new RangeError(`image too small for PDQ: ${width}x${height} (both sides must be >= 5)`);
  }
  const small = downsample(luma(pixels, width, height, channels), width, height);
  return { hash: hashHex(dct16(small)), quality: quality(small) };
}
