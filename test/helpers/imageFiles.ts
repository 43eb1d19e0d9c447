import dcmjs from 'dcmjs';
import jpeg from 'jpeg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';

/** Writes a grey PNG (pngjs) from 8-bit values, row-major. */
export function writePng(file: string, width: number, height: number, grey: (i: number) => number): void {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const v = grey(i);
    png.data.set([v, v, v, 255], 4 * i);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, PNG.sync.write(png));
}

/** Writes an RGB JPEG (jpeg-js, quality 95). */
export function writeJpeg(file: string, width: number, height: number, rgb: (i: number) => [number, number, number]): void {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb(i), 255], 4 * i);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, jpeg.encode({ data, width, height }, 95).data);
}

export interface DicomFields {
  readonly rows: number;
  readonly columns: number;
  /** Stored values (16-bit). */
  readonly values: ArrayLike<number>;
  readonly signed?: boolean;
  readonly slope?: number;
  readonly intercept?: number;
  readonly window?: { readonly center: number; readonly width: number };
  readonly photometric?: 'MONOCHROME1' | 'MONOCHROME2';
  readonly transferSyntax?: string;
}

/** Writes a DICOM file with dcmjs, 16 bits allocated, explicit VR little endian unless told otherwise. */
export function writeDicom(file: string, f: DicomFields): void {
  const syntax = f.transferSyntax ?? '1.2.840.10008.1.2.1';
  const pixels = f.signed ? Int16Array.from(f.values) : Uint16Array.from(f.values);
  const dataset: Record<string, unknown> = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.1',
    SOPInstanceUID: '1.2.826.0.1.3680043.8.498.1',
    Modality: 'CR',
    Rows: f.rows,
    Columns: f.columns,
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: f.signed ? 1 : 0,
    SamplesPerPixel: 1,
    PhotometricInterpretation: f.photometric ?? 'MONOCHROME2',
    ...(f.slope !== undefined ? { RescaleSlope: f.slope } : {}),
    ...(f.intercept !== undefined ? { RescaleIntercept: f.intercept } : {}),
    ...(f.window ? { WindowCenter: f.window.center, WindowWidth: f.window.width } : {}),
    _vrMap: { PixelData: 'OW' },
    PixelData: [pixels.buffer],
  };
  const meta = {
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: syntax,
    ImplementationClassUID: '1.2.826.0.1.3680043.8.498.2',
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, new Uint8Array(dict.write()));
}
