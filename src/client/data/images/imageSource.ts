import * as tf from '@tensorflow/tfjs';
import type { ExampleBatch, ExampleSource } from '../../exampleSource.js';
import { ImageError } from './decodedImage.js';
import type { ImageDataConfig } from './imageDataConfig.js';
import type { ImageEntry } from './listImages.js';
import { readImage } from './readImage.js';

/** What a streamed source has done: for a node's log, and the proof that memory stays bounded. */
export interface ImageSourceStats {
  /** Images decoded since the source was made (an image is decoded again every time a batch needs it). */
  readonly decoded: number;
  /** Decoded images alive now: in the batch being decoded or in batches not yet disposed. */
  readonly held: number;
  /** The most decoded images ever alive at once. */
  readonly peakHeld: number;
  /** Files that failed to decode and were set aside, with the reason (naming the file). */
  readonly setAside: readonly string[];
}

/** The files a source streams and how to decode them. */
export interface ImageSourceOptions {
  /** The images (file and label), in row order. */
  readonly entries: readonly ImageEntry[];
  /** Decoding: size, channels, normalization, DICOM window. */
  readonly config: ImageDataConfig;
  /** Model outputs: 1 gives a label column (binary), more give one-hot rows. */
  readonly outputs: number;
  /** Told, locally, of every file set aside (its message names the file). */
  readonly onSetAside?: (error: ImageError) => void;
}

/**
 * A site's images as a training source that holds only file names and labels: each batch is decoded from its files
 * when the trainer asks for it and freed when the trainer disposes it, so memory is one batch of pixels whatever the
 * site's size. Decoding is synchronous (pngjs, jpeg-js, dcmjs) on the trainer's thread, so there is no prefetch: it
 * would not overlap training. A file that fails to decode mid-training is set aside: the batch fails (the round's
 * update is withdrawn, the node stays in the run), later batches index the remaining files only.
 */
export class ImageSource implements ExampleSource {
  readonly features: number;
  /** Indices into `entries` of the files still in use. */
  private active: number[];
  private decoded = 0;
  private held = 0;
  private peakHeld = 0;
  private readonly setAside: string[] = [];

  constructor(private readonly options: ImageSourceOptions) {
    const { config, entries, outputs } = options;
    this.features = config.height * config.width * config.channels;
    for (const e of entries) {
      if (!Number.isInteger(e.label) || e.label < 0 || e.label >= Math.max(outputs, 2)) {
        throw new Error(`${e.file}: label ${e.label} does not fit a model with ${outputs} outputs (expected 0..${Math.max(outputs, 2) - 1})`);
      }
    }
    this.active = entries.map((_, i) => i);
  }

  get rows(): number {
    return this.active.length;
  }

  /** How many decoded images are alive now and at most so far, and the files set aside. */
  get stats(): ImageSourceStats {
    return { decoded: this.decoded, held: this.held, peakHeld: this.peakHeld, setAside: [...this.setAside] };
  }

  /** The labels of the rows in use, in row order (no decoding). */
  labels(): Float32Array {
    return Float32Array.from(this.active, (i) => this.options.entries[i]!.label);
  }

  batch(rows: readonly number[]): Promise<ExampleBatch> {
    const { entries, config, outputs } = this.options;
    const x = new Float32Array(rows.length * this.features);
    const picked = rows.map((r) => {
      const index = this.active[r];
      if (index === undefined) throw new RangeError(`row ${r} is outside 0..${this.active.length - 1}`);
      return index;
    });
    let taken = 0;
    try {
      for (const [i, index] of picked.entries()) {
        this.hold(1);
        taken++;
        x.set(this.decode(index), i * this.features);
      }
    } catch (e) {
      this.release(taken);
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    this.decoded += picked.length;
    const labels = picked.map((i) => entries[i]!.label);
    const [xt, yt] = tf.tidy(() => [
      tf.tensor2d(x, [picked.length, this.features]),
      outputs === 1 ? tf.tensor2d(labels, [picked.length, 1]) : tf.oneHot(tf.tensor1d(labels, 'int32'), outputs).toFloat(),
    ]);
    let disposed = false;
    return Promise.resolve({
      x: xt!,
      y: yt!,
      dispose: () => {
        if (disposed) return;
        disposed = true;
        tf.dispose([xt!, yt!]);
        this.release(picked.length);
      },
    });
  }

  dispose(): void {
    // Nothing held between batches: the file list is all there is.
  }

  private decode(index: number): Float32Array {
    const entry = this.options.entries[index]!;
    try {
      return readImage(entry.file, this.options.config);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      this.active = this.active.filter((i) => i !== index);
      this.setAside.push(e.message);
      this.options.onSetAside?.(e);
      // The coordinator sees this text (a fit failure's reason): no file name, which may carry a patient identifier.
      throw new Error(`an image of this site failed to decode mid-training and was set aside (this node's log names it); the round's update is withdrawn, and the next round uses the ${this.active.length} images left`);
    }
  }

  private hold(n: number): void {
    this.held += n;
    this.peakHeld = Math.max(this.peakHeld, this.held);
  }

  private release(n: number): void {
    this.held -= n;
  }
}
