import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/client/backend/index.js';
import { DataError } from '../../../../src/client/data/errors.js';
import { decodeImageFile, imageBatches, imageDataConfigSchema, ImageError, listImages, loadImageData, readImage } from '../../../../src/client/data/images/index.js';
import { writeDicom, writeJpeg, writePng } from '../../../helpers/imageFiles.js';

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});

const dir = () => mkdtempSync(join(tmpdir(), 'cohort-images-'));
const config = (extra: Record<string, unknown>) => imageDataConfigSchema.parse({ type: 'images', height: 4, width: 4, ...extra });
const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error was thrown');
};

describe('PNG and JPEG', () => {
  it('decodes a grey PNG exactly (value / 255) and a JPEG within its compression error', () => {
    const d = dir();
    writePng(join(d, 'a.png'), 4, 4, (i) => i * 16);
    const png = decodeImageFile(join(d, 'a.png'), {});
    expect(png).toMatchObject({ height: 4, width: 4, channels: 1 });
    expect(Array.from(png.pixels)).toEqual(Array.from({ length: 16 }, (_, i) => Math.fround((i * 16) / 255)));
    writeJpeg(join(d, 'b.jpg'), 8, 8, () => [200, 40, 90]);
    const jpg = decodeImageFile(join(d, 'b.jpg'), {});
    expect(jpg).toMatchObject({ height: 8, width: 8, channels: 3 });
    expect(jpg.pixels[0]! * 255).toBeCloseTo(200, -1);
    expect(jpg.pixels[1]! * 255).toBeCloseTo(40, -1);
    // To grey with the BT.601 weights, as configured with channels: 1.
    const grey = readImage(join(d, 'b.jpg'), config({ folder: d, height: 8, width: 8 }));
    expect(grey[0]! * 255).toBeCloseTo(0.299 * 200 + 0.587 * 40 + 0.114 * 90, -1);
  });

  it('names the file and the problem for a corrupt PNG, a truncated JPEG and a misnamed file', () => {
    const d = dir();
    writePng(join(d, 'ok.png'), 4, 4, () => 9);
    const bytes = readFileSync(join(d, 'ok.png'));
    writeFileSync(join(d, 'cut.png'), bytes.subarray(0, bytes.length - 30));
    const png = thrown(() => decodeImageFile(join(d, 'cut.png'), {}));
    expect(png).toBeInstanceOf(ImageError);
    expect(png.message).toMatch(new RegExp(`^${join(d, 'cut.png')}: cannot decode this PNG \\(.+\\); is the file complete\\?$`));
    writeJpeg(join(d, 'ok.jpg'), 16, 16, () => [1, 2, 3]);
    writeFileSync(join(d, 'cut.jpg'), readFileSync(join(d, 'ok.jpg')).subarray(0, 40));
    expect(thrown(() => decodeImageFile(join(d, 'cut.jpg'), {})).message).toMatch(/cut\.jpg: cannot decode this JPEG \(.+\)/);
    writeFileSync(join(d, 'photo.png'), readFileSync(join(d, 'ok.jpg')));
    expect(thrown(() => decodeImageFile(join(d, 'photo.png'), {})).message).toMatch(/photo\.png: is named \.png but does not start with the PNG signature \(it is a JPEG: rename it\)/);
    writeFileSync(join(d, 'empty.png'), '');
    expect(thrown(() => decodeImageFile(join(d, 'empty.png'), {})).message).toMatch(/empty\.png: is empty/);
  });

  it('refuses an image of the wrong size when resize is off, naming both sizes, and resizes it when on', () => {
    const d = dir();
    writePng(join(d, 'big.png'), 6, 5, () => 51);
    const message = thrown(() => readImage(join(d, 'big.png'), config({ folder: d, resize: false }))).message;
    expect(message).toBe(`${join(d, 'big.png')}: is 6x5 (width x height), but the config expects 4x4: resize it, or set resize: true`);
    const resized = readImage(join(d, 'big.png'), config({ folder: d }));
    expect(resized).toHaveLength(16);
    resized.forEach((v) => expect(v).toBeCloseTo(0.2, 5));
    const normalized = readImage(join(d, 'big.png'), config({ folder: d, normalize: { mean: [0.1], std: [0.5] } }));
    normalized.forEach((v) => expect(v).toBeCloseTo(0.2, 5));
  });
});

describe('DICOM (dcmjs)', () => {
  it('applies the rescale slope and intercept, then the window, to [0, 1]', () => {
    const d = dir();
    // Stored 0..300, slope 2, intercept -100: -100..500; window center 200, width 400 spans about 0..400.
    writeDicom(join(d, 'ct.dcm'), { rows: 2, columns: 2, values: [0, 50, 150, 300], slope: 2, intercept: -100, window: { center: 200, width: 400 } });
    const image = decodeImageFile(join(d, 'ct.dcm'), {});
    expect(image).toMatchObject({ height: 2, width: 2, channels: 1 });
    const low = 200 - 0.5 - 399 / 2;
    expect(image.pixels[0]).toBe(0); // -100 is below the window
    expect(image.pixels[1]).toBeCloseTo((0 - low) / 399, 6);
    expect(image.pixels[2]).toBeCloseTo((200 - low) / 399, 6);
    expect(image.pixels[3]).toBe(1); // 500 is above it
    // A configured window replaces the file's; MONOCHROME1 is inverted (high values white).
    writeDicom(join(d, 'm1.dcm'), { rows: 1, columns: 2, values: [0, 1000], photometric: 'MONOCHROME1' });
    expect(Array.from(decodeImageFile(join(d, 'm1.dcm'), { dicomWindow: { center: 500.5, width: 1001 } }).pixels)).toEqual([1, 0]);
  });

  it('reads signed values, and without a window spans their range', () => {
    const d = dir();
    writeDicom(join(d, 's.dcm'), { rows: 1, columns: 3, values: [-1000, 0, 1000], signed: true });
    const px = Array.from(decodeImageFile(join(d, 's.dcm'), {}).pixels);
    expect(px[0]).toBe(0);
    expect(px[1]).toBeCloseTo(0.5, 3);
    expect(px[2]).toBe(1);
  });

  it('names the file and the problem for a corrupt file and a compressed transfer syntax', () => {
    const d = dir();
    writeFileSync(join(d, 'junk.dcm'), 'not a dicom file at all');
    expect(thrown(() => decodeImageFile(join(d, 'junk.dcm'), {})).message).toMatch(/junk\.dcm: cannot read this DICOM file \(.+\); is it complete, with its 128-byte preamble and DICM prefix\?/);
    writeDicom(join(d, 'ok.dcm'), { rows: 8, columns: 8, values: new Array(64).fill(7) });
    writeFileSync(join(d, 'cut.dcm'), readFileSync(join(d, 'ok.dcm')).subarray(0, 200));
    expect(thrown(() => decodeImageFile(join(d, 'cut.dcm'), {})).message).toMatch(/cut\.dcm: cannot read this DICOM file \(Request more than currently allocated buffer\)/);
    // Rows x Columns say 8x8, the pixel data holds 4 values.
    writeDicom(join(d, 'short.dcm'), { rows: 8, columns: 8, values: [1, 2, 3, 4] });
    expect(thrown(() => decodeImageFile(join(d, 'short.dcm'), {})).message).toBe(
      `${join(d, 'short.dcm')}: PixelData holds 8 bytes, but Rows x Columns x SamplesPerPixel at 16 bits needs 128`,
    );
    writeDicom(join(d, 'jpeg.dcm'), { rows: 2, columns: 2, values: [1, 2, 3, 4], transferSyntax: '1.2.840.10008.1.2.4.50' });
    expect(thrown(() => decodeImageFile(join(d, 'jpeg.dcm'), {})).message).toMatch(/jpeg\.dcm: transfer syntax 1\.2\.840\.10008\.1\.2\.4\.50 is compressed; export uncompressed/);
  });
});

describe('image folders and manifests', () => {
  it('loads a folder per class with a per-class summary, split and flattened for the model', async () => {
    const d = dir();
    for (let i = 0; i < 6; i++) writePng(join(d, 'benign', `${i}.png`), 4, 4, () => 10);
    for (let i = 0; i < 4; i++) writeDicom(join(d, 'malignant', `${i}.dcm`), { rows: 4, columns: 4, values: new Array(16).fill(1000), window: { center: 500, width: 200 } });
    writeFileSync(join(d, 'benign', 'notes.txt'), 'ignored');
    const lines: string[] = [];
    const data = await loadImageData({ type: 'images', folder: '.', height: 4, width: 4, testFraction: 0.5 }, d, (l) => lines.push(l));
    expect(lines).toEqual([`${d}: 10 images, 2 classes benign:6 malignant:4`]);
    expect(data.classes).toEqual(['benign', 'malignant']);
    expect(data.meta.featureCount).toBe(16);
    expect(data.train.rows + data.test.rows).toBe(10);
    const all = [...data.train.y, ...data.test.y];
    expect(all.filter((y) => y === 1)).toHaveLength(4);
    // Every malignant row is white (1000 is above its window), every benign one 10/255.
    const row = (t: typeof data.train, r: number) => Array.from(t.x.subarray(r * 16, r * 16 + 16));
    for (let r = 0; r < data.train.rows; r++) expect(new Set(row(data.train, r))).toEqual(new Set([data.train.y[r] === 1 ? 1 : Math.fround(10 / 255)]));
  });

  it('reads a manifest (file, label, site), keeps one site, and names the line of a bad row', async () => {
    const d = dir();
    writePng(join(d, 'img', 'a.png'), 4, 4, () => 0);
    writePng(join(d, 'img', 'b.png'), 4, 4, () => 255);
    writeFileSync(join(d, 'manifest.csv'), 'file,label,site\nimg/a.png,normal,north\nimg/b.png,effusion,north\nimg/a.png,normal,south\nimg/b.png,normal,north\n');
    const list = listImages(config({ manifest: 'manifest.csv', site: 'north' }), d);
    expect(list.entries.map((e) => [e.file.slice(d.length + 1), e.label])).toEqual([['img/a.png', 1], ['img/b.png', 0], ['img/b.png', 1]]);
    expect(list.classes).toEqual(['effusion', 'normal']);
    writeFileSync(join(d, 'bad.csv'), 'file,label\nimg/a.png,normal\nimg/notes.txt,normal\n');
    const bad = thrown(() => listImages(config({ manifest: 'bad.csv' }), d));
    expect(bad).toBeInstanceOf(DataError);
    expect(bad.message).toBe(`${join(d, 'bad.csv')}, line 3, column "file": img/notes.txt is not a PNG, JPEG or DICOM file (.png, .jpg, .jpeg, .dcm or no extension)`);
    writeFileSync(join(d, 'nolabel.csv'), 'path,class\nimg/a.png,normal\n');
    expect(thrown(() => listImages(config({ manifest: 'nolabel.csv' }), d)).message).toMatch(/nolabel\.csv: has no "file" column: the header must be file,label\[,site\]/);
  });

  it('stops the load at a corrupt image, naming it', async () => {
    const d = dir();
    writePng(join(d, 'a', '1.png'), 4, 4, () => 1);
    writePng(join(d, 'b', '2.png'), 4, 4, () => 1);
    writeFileSync(join(d, 'b', '3.png'), 'garbage');
    await expect(loadImageData({ type: 'images', folder: d, height: 4, width: 4 }, '/')).rejects.toThrow(`${join(d, 'b', '3.png')}: is named .png but does not start with the PNG signature`);
  });

  it('streams batches: one batch of pixels at a time, in list order', async () => {
    const d = dir();
    for (let i = 0; i < 5; i++) writePng(join(d, 'c', `${i}.png`), 4, 4, () => i * 50);
    const cfg = config({ folder: d });
    const sizes: number[] = [];
    const firsts: number[] = [];
    for await (const batch of imageBatches(listImages(cfg, '/').entries, cfg, 2)) {
      sizes.push(batch.rows);
      firsts.push(Math.round(batch.x[0]! * 255));
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(firsts).toEqual([0, 100, 200]);
  });

  it('refuses a config with both or neither of folder and manifest', () => {
    expect(imageDataConfigSchema.safeParse({ type: 'images', height: 4, width: 4 }).error?.issues[0]?.message).toMatch(/give exactly one of folder/);
    expect(imageDataConfigSchema.safeParse({ type: 'images', folder: 'a', manifest: 'b', height: 4, width: 4 }).success).toBe(false);
  });
});
