/** An image as decoded, before resizing: `height * width * channels` values in [0, 1], row-major, channels last. */
export interface DecodedImage {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly pixels: Float32Array;
}

/** What went wrong with one image file; the message starts with the file's path. */
export class ImageError extends Error {
  /** Always `ImageError`. */
  override readonly name = 'ImageError';
  constructor(
    /** The image file at fault. */
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
