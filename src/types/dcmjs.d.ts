// The part of dcmjs (which ships no types) that the DICOM reader uses.
declare module 'dcmjs' {
  interface DicomDictLike {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer): DicomDictLike };
      DicomMetaDictionary: {
        naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      };
      DicomDict: new (meta: Record<string, unknown>) => DicomDictLike;
    };
  };
  export default dcmjs;
}
