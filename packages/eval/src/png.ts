import { unzlibSync, zlibSync } from 'fflate';
import { AdmError, crc32 as coreCrc32 } from '@adm/core';

/** An 8-bit RGB image, row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  /** [height * width * 3] */
  data: Uint8Array;
}

/** An image file that is not a PNG this reader handles. */
export class ImageFileError extends AdmError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** CRC-32 over consecutive parts (a PNG chunk's type then its data). */
function crc32(parts: Uint8Array[]): number {
  let c = 0;
  for (const p of parts) c = coreCrc32(p, c);
  return c;
}

/** Encode an RGB image as a PNG (8-bit truecolour, filter 0, zlib level 6). */
export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  if (data.length !== width * height * 3) throw new RangeError(`encodePng: ${width}x${height} RGB needs ${width * height * 3} bytes, got ${data.length}`);
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(8 + chunks.reduce((s, c) => s + c.length, 0));
  out.set(SIGNATURE);
  let p = 8;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(type);
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  out.set(t, 4);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32([t, body]));
  return out;
}

/**
 * Decode a non-interlaced PNG of bit depth 8 or 16 (grey, grey+alpha, RGB, RGBA, palette
 * at depth 8) to RGB. Alpha is dropped (the metrics see RGB only); 16-bit keeps the high byte.
 */
export function decodePng(bytes: Uint8Array, file = '<png>'): RgbImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new ImageFileError(file, 'not a PNG file (bad signature)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (p + 12 <= bytes.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + len > bytes.length) throw new ImageFileError(file, `truncated PNG chunk ${type}`);
    const body = bytes.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(p + 8);
      height = dv.getUint32(p + 12);
      depth = body[8];
      colour = body[9];
      if (body[12] !== 0) throw new ImageFileError(file, 'interlaced PNGs are not supported; re-save without interlacing');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (!width || !height || channels === undefined) throw new ImageFileError(file, 'PNG without a valid IHDR');
  if (!(depth === 8 || (depth === 16 && colour !== 3))) throw new ImageFileError(file, `PNG bit depth ${depth} with colour type ${colour} is not supported (use 8-bit)`);
  if (colour === 3 && !palette) throw new ImageFileError(file, 'palette PNG without PLTE');
  const total = idat.reduce((s, c) => s + c.length, 0);
  const z = new Uint8Array(total);
  let q = 0;
  for (const c of idat) {
    z.set(c, q);
    q += c.length;
  }
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  let raw: Uint8Array;
  try {
    raw = unzlibSync(z);
  } catch (e) {
    throw new ImageFileError(file, `corrupt PNG image data (${(e as Error).message})`);
  }
  if (raw.length < height * (stride + 1)) throw new ImageFileError(file, 'truncated PNG image data');
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let v: number;
      switch (filter) {
        case 0: v = src[i]; break;
        case 1: v = src[i] + a; break;
        case 2: v = src[i] + b; break;
        case 3: v = src[i] + ((a + b) >> 1); break;
        case 4: {
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          v = src[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new ImageFileError(file, `bad PNG filter type ${filter} in row ${y}`);
      }
      row[i] = v & 0xff;
    }
  }
  const out = new Uint8Array(width * height * 3);
  const step = depth / 8;
  for (let i = 0; i < width * height; i++) {
    const base = i * bpp;
    const sample = (ch: number) => px[base + ch * step];
    if (colour === 3) {
      const k = px[i];
      out.set(palette!.subarray(k * 3, k * 3 + 3), i * 3);
    } else if (channels <= 2) out.fill(sample(0), i * 3, i * 3 + 3);
    else {
      out[i * 3] = sample(0);
      out[i * 3 + 1] = sample(1);
      out[i * 3 + 2] = sample(2);
    }
  }
  return { width, height, data: out };
}
