import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageError, type DecodedImage } from './decodedImage.js';

/** Largest image decoded, in megapixels: a guard against decompression bombs in a site's folder. */
const MAX_MEGAPIXELS = 64;

/** RGBA bytes (as both decoders give them) to grey or RGB in [0, 1]; alpha is dropped. */
function fromRgba(rgba: Uint8Array, width: number, height: number, grey: boolean): DecodedImage {
  const n = width * height;
  const channels = grey ? 1 : 3;
  const pixels = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) pixels[i * channels + c] = rgba[4 * i + c]! / 255;
  }
  return { height, width, channels, pixels };
}

/** Whether every pixel has R = G = B (a grey image stored as RGB, as PNG writers often do). */
function isGrey(rgba: Uint8Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  return true;
}

/** Decodes a PNG (pngjs) or a baseline/progressive JPEG (jpeg-js) to values in [0, 1]. */
export function decodeRaster(bytes: Uint8Array, file: string, kind: 'png' | 'jpeg'): DecodedImage {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (kind === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1_024 });
      ({ width, height } = image);
      rgba = image.data;
    }
  } catch (e) {
    throw new ImageError(file, `cannot decode this ${kind === 'png' ? 'PNG' : 'JPEG'} (${(e as Error).message}); is the file complete?`);
  }
  if (width * height > MAX_MEGAPIXELS * 1e6) throw new ImageError(file, `${width}x${height} is over ${MAX_MEGAPIXELS} megapixels`);
  return fromRgba(rgba, width, height, isGrey(rgba));
}
