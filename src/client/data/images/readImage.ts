import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { decodeDicom } from './decodeDicom.js';
import { ImageError, type DecodedImage } from './decodedImage.js';
import { decodeRaster } from './decodeRaster.js';
import type { ImageDataConfig } from './imageDataConfig.js';
import { imageKind } from './listImages.js';

/** Grey from RGB with the ITU-R BT.601 luma weights (what most toolkits' "L" conversion uses). */
function toChannels(image: DecodedImage, channels: 1 | 3): Float32Array {
  if (image.channels === channels) return image.pixels;
  const n = image.height * image.width;
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) out[i] = 0.299 * image.pixels[3 * i]! + 0.587 * image.pixels[3 * i + 1]! + 0.114 * image.pixels[3 * i + 2]!;
    else out.fill(image.pixels[i]!, 3 * i, 3 * i + 3);
  }
  return out;
}

/** Decodes one file by its kind (PNG and JPEG by magic bytes too, so a misnamed file is still caught). */
export function decodeImageFile(file: string, config: Pick<ImageDataConfig, 'dicomWindow'>): DecodedImage {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new ImageError(file, `cannot read (${(e as Error).message})`);
  }
  if (bytes.length === 0) throw new ImageError(file, 'is empty');
  const kind = imageKind(file);
  if (kind === 'dicom') return decodeDicom(bytes, file, config.dicomWindow);
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (kind === 'png' && !isPng) throw new ImageError(file, `is named .png but does not start with the PNG signature${isJpeg ? ' (it is a JPEG: rename it)' : ''}`);
  if (kind === 'jpeg' && !isJpeg) throw new ImageError(file, `is named .jpg/.jpeg but does not start with the JPEG marker FFD8${isPng ? ' (it is a PNG: rename it)' : ''}`);
  return decodeRaster(bytes, file, kind === 'png' ? 'png' : 'jpeg');
}

/**
 * One image as the model takes it: decoded, converted to the configured channels, resized (bilinear, tfjs) or refused
 * when its size differs and resize is off, then normalized. Returns height x width x channels values.
 */
export function readImage(file: string, config: ImageDataConfig): Float32Array {
  const image = decodeImageFile(file, config);
  let pixels = toChannels(image, config.channels);
  if (image.height !== config.height || image.width !== config.width) {
    if (!config.resize) {
      throw new ImageError(file, `is ${image.width}x${image.height} (width x height), but the config expects ${config.width}x${config.height}: resize it, or set resize: true`);
    }
    pixels = tf.tidy(() => {
      const t = tf.tensor3d(pixels, [image.height, image.width, config.channels]);
      return tf.image.resizeBilinear(t, [config.height, config.width], true).dataSync() as Float32Array;
    });
  }
  const norm = config.normalize;
  if (norm) {
    const c = config.channels;
    for (let i = 0; i < pixels.length; i++) {
      const k = i % c;
      pixels[i] = (pixels[i]! - (norm.mean[k] ?? norm.mean[0]!)) / (norm.std[k] ?? norm.std[0]!);
    }
  }
  return pixels;
}
