// Client-side data loading: the public surface of src/client/data.
export type { TabularData, TrainTest } from './tabular.js';
export { featureCount, takeRows } from './tabular.js';
export { DataError, type DataErrorLocation } from './errors.js';
export {
  csvDataConfigSchema,
  categoricalEncodingSchema,
  labelTransformSchema,
  parseCsvDataConfig,
  type CsvDataConfig,
  type CsvDataConfigInput,
  type CategoricalEncoding,
  type LabelTransform,
} from './csvDataConfig.js';
export { loadCsvData, type CsvDataMeta, type LoadedCsvData } from './loadCsvData.js';
export { readCsvTable, type CsvTable, type CsvRecord, type ReadCsvOptions } from './readCsvTable.js';
export { splitIndices, trainTestSplit, testSizeFor, type SplitIndices, type SplitOptions } from './split.js';
export {
  fitStandardization,
  applyStandardization,
  standardizeTrainTest,
  STD_EPSILON,
  type Standardization,
} from './standardize.js';
export { schemaFingerprint } from './fingerprint.js';
export { parseStrictNumber } from './strictNumber.js';
export {
  applyPublicScaling,
  describeClipped,
  publicScalingSchema,
  publicFeatureScaleSchema,
  type PublicScaling,
  type PublicScalingInput,
  type PublicFeatureScale,
  type PublicScalingReport,
} from './publicScaling.js';
