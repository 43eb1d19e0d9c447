import { DataError } from '../errors.js';
import { ImageError } from './decodedImage.js';
import type { ImageDataConfig } from './imageDataConfig.js';
import type { ImageList } from './listImages.js';
import { probeImage } from './probeImage.js';

/** Files named in the error when several fail the start check; the rest are counted. */
const FILES_NAMED = 5;

/**
 * Checks every file's header (see probeImage), and its size when the config refuses to resize: the problems a
 * hospital can fix before a run, found in seconds rather than rounds into training.
 */
export function checkImageFiles(list: ImageList, config: ImageDataConfig): void {
  const problems: ImageError[] = [];
  for (const entry of list.entries) {
    try {
      const { width, height } = probeImage(entry.file);
      if (!config.resize && width !== undefined && height !== undefined && (width !== config.width || height !== config.height)) {
        throw new ImageError(entry.file, `is ${width}x${height} (width x height), but the config expects ${config.width}x${config.height}: resize it, or set resize: true`);
      }
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      problems.push(e);
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    const more = problems.length > FILES_NAMED ? `; and ${problems.length - FILES_NAMED} more` : '';
    throw new DataError(`${problems.length} of ${list.entries.length} image files cannot be used: ${problems.slice(0, FILES_NAMED).map((e) => e.message).join('; ')}${more}`, { file: list.source });
  }
}
