// Image data for clients: PNG, JPEG and DICOM files, by folder per class or CSV manifest.
export { imageDataConfigSchema, type ImageDataConfig, type ImageDataConfigInput } from './imageDataConfig.js';
export { ImageError, type DecodedImage } from './decodedImage.js';
export { decodeDicom, type DicomWindow } from './decodeDicom.js';
export { decodeImageFile, readImage } from './readImage.js';
export { listImages, imageKind, type ImageEntry, type ImageList, type ImageKind } from './listImages.js';
export { loadImageData, imageBatches, describeImages, pixelNames } from './loadImageData.js';
