/**
 * The IDX format of LeCun, Cortes and Burges' MNIST files (http://yann.lecun.com/exdb/mnist/): a big-endian
 * header (magic 0x00000803 for unsigned-byte 3-D arrays, 0x00000801 for 1-D), one uint32 per dimension,
 * then the values as unsigned bytes, row-major.
 */

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** count x height x width grey levels, 0 (background) to 255 (ink), row-major. */
  readonly pixels: Uint8Array;
}

function readHeader(bytes: Uint8Array, magic: number, dims: number, what: string): number[] {
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) throw new Error(`${what}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) throw new Error(`${what}: magic number 0x${found.toString(16)}, expected 0x${magic.toString(16)}`);
  return Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
}

/** Parses an images file (e.g. train-images-idx3-ubyte), keeping at most `limit` images. */
export function parseIdxImages(bytes: Uint8Array, what = 'IDX images', limit = Infinity): IdxImages {
  const [count = 0, height = 0, width = 0] = readHeader(bytes, IMAGES_MAGIC, 3, what);
  const size = height * width;
  if (bytes.length !== 16 + count * size) throw new Error(`${what}: ${bytes.length} bytes, expected 16 + ${count} x ${height} x ${width}`);
  const kept = Math.min(count, limit);
  return { count: kept, height, width, pixels: bytes.subarray(16, 16 + kept * size) };
}

/** Parses a labels file (e.g. train-labels-idx1-ubyte), keeping at most `limit` labels. */
export function parseIdxLabels(bytes: Uint8Array, what = 'IDX labels', limit = Infinity): Uint8Array {
  const [count = 0] = readHeader(bytes, LABELS_MAGIC, 1, what);
  if (bytes.length !== 8 + count) throw new Error(`${what}: ${bytes.length} bytes, expected 8 + ${count}`);
  return bytes.subarray(8, 8 + Math.min(count, limit));
}
