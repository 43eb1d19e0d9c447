import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ImageError } from './decodedImage.js';
import { imageKind } from './listImages.js';

/** What a file's first bytes say: its size in pixels where the header gives it cheaply (PNG, JPEG). */
export interface ImageHeader {
  readonly width?: number;
  readonly height?: number;
}

/** Bytes read while looking for a JPEG's frame header; past this an image is decoded in full to learn its size. */
const JPEG_SCAN_LIMIT = 1 << 20;

function read(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, got);
}

/** A JPEG's size from its SOFn segment (ITU T.81 B.2.2), walking the segments from the start. */
function jpegSize(fd: number, fileSize: number): ImageHeader {
  let position = 2;
  while (position + 4 <= Math.min(fileSize, JPEG_SCAN_LIMIT)) {
    const head = read(fd, position, 9);
    if (head.length < 4 || head[0] !== 0xff) return {};
    const marker = head[1]!;
    if (marker === 0xff) {
      position += 1; // fill byte
      continue;
    }
    const length = head.readUInt16BE(2);
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return head.length >= 9 ? { height: head.readUInt16BE(5), width: head.readUInt16BE(7) } : {};
    }
    if (marker === 0xda || length < 2) return {}; // start of scan before a frame header: left to the decoder
    position += 2 + length;
  }
  return {};
}

/**
 * Checks one image file cheaply, without decoding it: it can be opened, is not empty, starts as its kind says (PNG
 * signature, JPEG SOI marker, DICOM's DICM prefix after the 128-byte preamble), and gives its size where the header
 * does. A node checks every file so at start, so that a missing, empty or misnamed file stops it before training,
 * naming the file; damage further into a file shows only when it is decoded.
 */
export function probeImage(file: string): ImageHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new ImageError(file, `cannot read (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw new ImageError(file, 'is empty');
    const head = read(fd, 0, 132);
    const kind = imageKind(file);
    const isPng = head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a;
    const isJpeg = head[0] === 0xff && head[1] === 0xd8;
    if (kind === 'png') {
      if (!isPng) throw new ImageError(file, `is named .png but does not start with the PNG signature${isJpeg ? ' (it is a JPEG: rename it)' : ''}`);
      // The first chunk is IHDR (PNG spec 11.2.2): width and height at bytes 16 and 20.
      if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') throw new ImageError(file, 'cannot decode this PNG (no IHDR chunk after the signature); is the file complete?');
      return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
    }
    if (kind === 'jpeg') {
      if (!isJpeg) throw new ImageError(file, `is named .jpg/.jpeg but does not start with the JPEG marker FFD8${isPng ? ' (it is a PNG: rename it)' : ''}`);
      return jpegSize(fd, size);
    }
    if (head.length < 132 || head.toString('latin1', 128, 132) !== 'DICM') {
      throw new ImageError(file, 'cannot read this DICOM file (no DICM prefix after the 128-byte preamble); is it a DICOM Part 10 file, complete?');
    }
    return {};
  } finally {
    closeSync(fd);
  }
}
