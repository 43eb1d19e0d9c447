// Image data for clients: PNG, JPEG and DICOM files, by folder per class or CSV manifest.
export { imageDataConfigSchema, type ImageDataConfig, type ImageDataConfigInput } from './imageDataConfig.js';
export { ImageError, type DecodedImage } from './decodedImage.js';
export { decodeDicom, type DicomWindow } from './decodeDicom.js';
export { decodeImageFile, readImage } from './readImage.js';
export { listImages, imageKind, type ImageEntry, type ImageList, type ImageKind } from './listImages.js';
export { loadImageData, imageBatches, describeImages, pixelNames } from './loadImageData.js';
export { probeImage, type ImageHeader } from './probeImage.js';
export { checkImageFiles } from './checkImageFiles.js';
export { openImageData, type ImageSplit } from './openImageData.js';
export { ImageSource, type ImageSourceOptions, type ImageSourceStats } from './imageSource.js';
