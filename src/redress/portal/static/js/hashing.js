// Hashing files on this device: pictures in Web Workers (PDQ + the bank variants), videos as
// MD5 + SHA-256 of the bytes and vPDQ of one frame per second, read with a <video> element here
// and hashed in a worker. Returns the signals the hub's /v1/cases API takes. Nothing is sent.
import { canonicalSize } from "./variants.js";

const IMAGE_EXTENSIONS = /\.(jpe?g|png|gif|webp|bmp|avif|heic|heif|tiff?|ico|jxl)$/i;
const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|webm|mkv|ogv|avi|3gp|wmv|mpe?g)$/i;
const MIN_QUALITY = 50;
const MAX_VIDEO_FRAMES = 2400;
const MAX_FRAME_SIDE = 1920; // the hub takes 200,000 characters per signal (~40 minutes)

export function kindOf(file) {
  if (file.type.startsWith("image/") || IMAGE_EXTENSIONS.test(file.name)) return "image";
  if (file.type.startsWith("video/") || VIDEO_EXTENSIONS.test(file.name)) return "video";
  return null;
}

export class HashingError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

export class Hasher {
  constructor(workers = Math.min(2, navigator.hardwareConcurrency || 1)) {
    this.pool = [];
    this.next = 0;
    this.pending = new Map();
    this.counter = 0;
    for (let i = 0; i < Math.max(1, workers); i++) {
      const worker = new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });
      worker.onmessage = (event) => this.receive(event.data);
      this.pool.push(worker);
    }
  }

  receive({ id, result, error, progress }) {
    const task = this.pending.get(id);
    if (!task) return;
    if (progress !== undefined) {
      task.onProgress?.(progress);
      return;
    }
    this.pending.delete(id);
    if (error) task.reject(new HashingError(error.code));
    else task.resolve(result);
  }

  call(message, transfer = [], onProgress = undefined) {
    const id = ++this.counter;
    const worker = this.pool[this.next++ % this.pool.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      worker.postMessage({ id, ...message }, transfer);
    });
  }

  /**
   * Hash one file. `onProgress(share, detail)` reports progress from 0 to 1. Resolves to
   * {kind, signals: [{type, value, quality?, variant?}], notes: [codes]}; rejects with a
   * HashingError whose code names the problem (notMedia, cannotDecode, tooFlat, tooSmall).
   */
  async hashFile(file, onProgress = () => {}) {
    const kind = kindOf(file);
    if (kind === "image") return this.hashImage(file, onProgress);
    if (kind === "video") return this.hashVideo(file, onProgress);
    throw new HashingError("notMedia");
  }

  async hashImage(file, onProgress) {
    onProgress(0.1);
    const result = await this.call({ op: "image", file, variants: true });
    if (result.original.quality < MIN_QUALITY) throw new HashingError("tooFlat");
    const signals = [{ type: "pdq", value: result.original.hash, quality: result.original.quality }];
    for (const v of result.variants) {
      if (v.quality >= MIN_QUALITY) {
        signals.push({ type: "pdq", value: v.hash, quality: v.quality, variant: v.variant });
      }
    }
    onProgress(1);
    return { kind: "image", signals, notes: [], ms: result.ms };
  }

  async hashVideo(file, onProgress) {
    const digest = this.call({ op: "digests", file }, [], (share) => onProgress(share * 0.2));
    const notes = [];
    let frames = [];
    try {
      frames = await this.videoFrames(file, (share, detail) => onProgress(0.2 + share * 0.8, detail));
    } catch (error) {
      if (!(error instanceof HashingError)) throw error;
      notes.push("videoNoFrames");
    }
    const { md5, sha256 } = await digest;
    const signals = [];
    if (frames.some((frame) => frame.quality >= MIN_QUALITY)) {
      const lines = frames.map((f) => `${f.index},${f.quality},${f.hash},${f.time.toFixed(3)}`);
      signals.push({ type: "vpdq", value: lines.join("\n") });
    } else if (frames.length) {
      notes.push("videoNoFrames");
    }
    signals.push({ type: "md5", value: md5 }, { type: "sha256", value: sha256 });
    onProgress(1);
    return { kind: "video", signals, notes, frames: frames.length };
  }

  /** One frame per second, each drawn whole (at most 1920 px on its long side), hashed with PDQ. */
  async videoFrames(file, onProgress) {
    const url = URL.createObjectURL(file);
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "auto";
    video.playsInline = true;
    try {
      video.src = url;
      await waitFor(video, "loadeddata");
      if (!video.videoWidth || !Number.isFinite(video.duration)) throw new HashingError("cannotDecode");
      // Whole frames, as vpdq hashes them (its reference output is from full-size frames).
      const [width, height] = canonicalSize(video.videoWidth, video.videoHeight, MAX_FRAME_SIDE);
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.imageSmoothingQuality = "high";
      const total = Math.min(MAX_VIDEO_FRAMES, Math.max(1, Math.ceil(video.duration - 1e-6)));
      const frames = [];
      for (let index = 0; index < total; index++) {
        const time = index;
        const shown = await seekTo(video, time);
        // Past the end of the picture track (the container may run longer, e.g. for audio), the
        // browser shows the last frame again; vpdq has no frame there, so stop.
        if (shown !== null && time > 0 && time > video.duration - 1 && time - shown > 0.02) break;
        context.drawImage(video, 0, 0, width, height);
        const pixels = context.getImageData(0, 0, width, height).data.buffer;
        const { hash, quality } = await this.call({ op: "pixels", pixels, width, height }, [pixels]);
        frames.push({ index, time: shown ?? time, hash, quality });
        onProgress((index + 1) / total, { done: index + 1, total });
      }
      return frames;
    } finally {
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(url);
    }
  }

  close() {
    for (const worker of this.pool) worker.terminate();
  }
}

/** Seek and wait for the frame; resolves to the shown frame's time when the browser tells it. */
function seekTo(video, time) {
  return new Promise((resolve, reject) => {
    let shown = null;
    let seeked = false;
    const finish = () => {
      if (seeked && shown !== null) resolve(shown);
    };
    if (video.requestVideoFrameCallback) {
      video.requestVideoFrameCallback((_now, metadata) => {
        shown = metadata.mediaTime;
        finish();
      });
    }
    waitFor(video, "seeked").then(() => {
      seeked = true;
      finish();
      // No new frame to present (or no frame callbacks): go on with what is shown.
      setTimeout(() => resolve(shown), 250);
    }, reject);
    video.currentTime = time;
  });
}

function waitFor(element, name) {
  return new Promise((resolve, reject) => {
    const done = () => {
      element.removeEventListener(name, done);
      element.removeEventListener("error", failed);
      resolve();
    };
    const failed = () => {
      element.removeEventListener(name, done);
      element.removeEventListener("error", failed);
      reject(new HashingError("cannotDecode"));
    };
    element.addEventListener(name, done);
    element.addEventListener("error", failed);
  });
}
