import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import type { ImageDataConfig } from './imageDataConfig.js';

export type ImageKind = 'png' | 'jpeg' | 'dicom';

/** One image file to read, with its class index and (from a manifest) its site. */
export interface ImageEntry {
  /** The image file's path. */
  readonly file: string;
  /** Its class index (into the list's classes). */
  readonly label: number;
  /** The site the manifest assigns it to. */
  readonly site?: string;
}

export interface ImageList {
  readonly entries: readonly ImageEntry[];
  /** Class names; label i is classes[i]. */
  readonly classes: readonly string[];
  /** The folder or manifest read, for messages. */
  readonly source: string;
}

/** The kind of an image file, from its extension (DICOM exports often have none, or .dcm). */
export function imageKind(file: string): ImageKind | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.dcm' || ext === '.dicom' || ext === '') return 'dicom';
  return undefined;
}

function classIndex(classes: readonly string[] | undefined, found: readonly string[], source: string): Map<string, number> {
  const names = classes ?? [...found].sort();
  const unknown = found.filter((c) => !names.includes(c));
  if (unknown.length > 0) throw new DataError(`classes [${unknown.join(', ')}] are not in the configured classes [${names.join(', ')}]`, { file: source });
  return new Map(names.map((c, i) => [c, i]));
}

/** A folder per class: `<folder>/<class>/<image>`; files of other kinds are skipped, hidden files ignored. */
function fromFolder(folder: string, classes: readonly string[] | undefined): ImageList {
  let subfolders: string[];
  try {
    subfolders = readdirSync(folder).filter((name) => !name.startsWith('.') && statSync(join(folder, name)).isDirectory());
  } catch (e) {
    throw new DataError(`cannot read the image folder (${(e as Error).message})`, { file: folder });
  }
  if (subfolders.length === 0) throw new DataError('has no class subfolders: put each class\'s images in a subfolder named after the class', { file: folder });
  const index = classIndex(classes, subfolders, folder);
  const entries: ImageEntry[] = [];
  for (const name of subfolders.sort()) {
    for (const file of readdirSync(join(folder, name)).sort()) {
      if (file.startsWith('.') || imageKind(file) === undefined) continue;
      entries.push({ file: join(folder, name, file), label: index.get(name)! });
    }
  }
  return { entries, classes: [...index.keys()], source: folder };
}

/** A CSV manifest with a header `file,label[,site]`; files are relative to the manifest's folder. */
function fromManifest(manifest: string, classes: readonly string[] | undefined, site: string | undefined): ImageList {
  let records: Record<string, string>[];
  try {
    records = parse(readFileSync(manifest), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new DataError(`cannot read the manifest (${(e as Error).message})`, { file: manifest });
  }
  const first = records[0];
  for (const column of ['file', 'label']) {
    if (first !== undefined && !(column in first)) throw new DataError(`has no "${column}" column: the header must be file,label[,site]`, { file: manifest });
  }
  if (site !== undefined && first !== undefined && !('site' in first)) throw new DataError(`has no "site" column, but the config selects site ${site}`, { file: manifest });
  const kept = records.map((r, i) => ({ r, line: i + 2 })).filter(({ r }) => site === undefined || r.site === site);
  const index = classIndex(classes, [...new Set(kept.map(({ r }) => r.label!))], manifest);
  const base = dirname(manifest);
  const entries = kept.map(({ r, line }): ImageEntry => {
    if (!r.file) throw new DataError('the file cell is empty', { file: manifest, line, column: 'file' });
    const file = resolve(base, r.file);
    if (imageKind(file) === undefined) throw new DataError(`${r.file} is not a PNG, JPEG or DICOM file (.png, .jpg, .jpeg, .dcm or no extension)`, { file: manifest, line, column: 'file' });
    return { file, label: index.get(r.label!)!, ...(r.site ? { site: r.site } : {}) };
  });
  return { entries, classes: [...index.keys()], source: manifest };
}

/** The images a config names, in a fixed order (by class, then file name, or manifest order). */
export function listImages(config: ImageDataConfig, baseDir: string): ImageList {
  const list = config.folder !== undefined ? fromFolder(resolve(baseDir, config.folder), config.classes) : fromManifest(resolve(baseDir, config.manifest!), config.classes, config.site);
  if (list.entries.length === 0) throw new DataError(`no PNG, JPEG or DICOM images found${config.site ? ` for site ${config.site}` : ''}`, { file: list.source });
  return list;
}
