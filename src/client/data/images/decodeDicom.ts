import dcmjs from 'dcmjs';
import { ImageError, type DecodedImage } from './decodedImage.js';

/** Uncompressed transfer syntaxes (PS3.5 A.1-A.3): implicit and explicit VR little endian, explicit big endian. */
const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);

export interface DicomWindow {
  readonly center: number;
  readonly width: number;
}

type Dataset = Record<string, unknown>;
const first = (v: unknown): number | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'number' && Number.isFinite(x) ? x : typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : undefined;
};

function stored(ds: Dataset, buffer: ArrayBuffer, count: number, file: string): Float64Array {
  const bits = first(ds.BitsAllocated);
  const signed = first(ds.PixelRepresentation) === 1;
  const bytesPer = bits === 8 ? 1 : bits === 16 ? 2 : undefined;
  if (bytesPer === undefined) throw new ImageError(file, `BitsAllocated ${String(ds.BitsAllocated)} is not supported (8 or 16)`);
  if (buffer.byteLength < count * bytesPer) {
    throw new ImageError(file, `PixelData holds ${buffer.byteLength} bytes, but Rows x Columns x SamplesPerPixel at ${bits} bits needs ${count * bytesPer}`);
  }
  // dcmjs hands little-endian bytes for every uncompressed syntax it reads (it swaps big endian on read).
  const view = bytesPer === 1 ? (signed ? new Int8Array(buffer, 0, count) : new Uint8Array(buffer, 0, count)) : signed ? new Int16Array(buffer.slice(0, count * 2)) : new Uint16Array(buffer.slice(0, count * 2));
  return Float64Array.from(view);
}

/**
 * Decodes an uncompressed DICOM image with dcmjs: the stored values, the modality rescale (slope and intercept,
 * to Hounsfield units for CT), then the VOI window (linear, PS3.3 C.11.2.1.2.1) to [0, 1]; MONOCHROME1 is inverted
 * so that high values are white. Only the first frame of a multi-frame file is read.
 */
export function decodeDicom(bytes: Uint8Array, file: string, window?: DicomWindow): DecodedImage {
  let ds: Dataset;
  let syntax: string | undefined;
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const message = dcmjs.data.DicomMessage.readFile(copy);
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict) as Dataset;
    const meta = message.meta as Record<string, { Value?: unknown[] } | undefined>;
    syntax = meta['00020010']?.Value?.[0] as string | undefined;
  } catch (e) {
    throw new ImageError(file, `cannot read this DICOM file (${(e as Error).message}); is it complete, with its 128-byte preamble and DICM prefix?`);
  }
  if (syntax !== undefined && !UNCOMPRESSED.has(syntax)) {
    throw new ImageError(file, `transfer syntax ${syntax} is compressed; export uncompressed (explicit VR little endian, 1.2.840.10008.1.2.1), e.g. with dcmtk's dcmdjpeg/dcmconv`);
  }
  const rows = first(ds.Rows);
  const columns = first(ds.Columns);
  const samples = first(ds.SamplesPerPixel) ?? 1;
  const data = Array.isArray(ds.PixelData) ? (ds.PixelData[0] as ArrayBuffer | undefined) : undefined;
  if (rows === undefined || columns === undefined || data === undefined) throw new ImageError(file, 'has no image (Rows, Columns or PixelData missing)');
  if (samples !== 1 && samples !== 3) throw new ImageError(file, `SamplesPerPixel ${samples} is not supported (1 or 3)`);
  if (samples === 3 && first(ds.PlanarConfiguration) === 1) throw new ImageError(file, 'colour planes stored separately (PlanarConfiguration 1) are not supported');
  const values = stored(ds, data, rows * columns * samples, file);
  const slope = first(ds.RescaleSlope) ?? 1;
  const intercept = first(ds.RescaleIntercept) ?? 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fileCenter = first(ds.WindowCenter);
  const fileWidth = first(ds.WindowWidth);
  const chosen = window ?? (fileCenter !== undefined && fileWidth !== undefined && fileWidth > 0 ? { center: fileCenter, width: fileWidth } : { center: (min + max) / 2 + 0.5, width: Math.max(1, max - min + 1) });
  const invert = ds.PhotometricInterpretation === 'MONOCHROME1';
  const low = chosen.center - 0.5 - (chosen.width - 1) / 2;
  const span = Math.max(chosen.width - 1, 1e-9);
  const pixels = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(1, Math.max(0, (values[i]! - low) / span));
    pixels[i] = invert ? 1 - v : v;
  }
  return { height: rows, width: columns, channels: samples, pixels };
}
