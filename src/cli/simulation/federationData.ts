import { applyPublicScaling, describeClipped, takeRows, trainTestSplit, type LoadedCsvData } from '../../client/data/index.js';
import { loadSiteData, siteDataConfigSchema } from '../../client/data/siteData.js';
import { specOutputs } from '../../client/model/modelSpec.js';
import { describeLabelCounts, labelHistogram, partitionRows } from '../../client/partition/index.js';
import { schemaMismatch } from '../../protocol/dataSchema.js';
import { mixSeed } from '../../protocol/seededRng.js';
import { concatTables } from '../centralBaseline.js';
import type { ExperimentConfig } from '../config/experimentConfig.js';
import { parseConfig } from '../config/loadConfig.js';
import { virtualClientName } from './virtualFederation.js';

/** One simulated hospital's name and rows (raw, or scaled from public ranges). */
export interface ClientData {
  readonly name: string;
  readonly data: LoadedCsvData;
}

/** Which of a partition's clients to build: indices start <= i < end (a host's part). Default: every one. */
export interface ClientRange {
  readonly start: number;
  readonly end: number;
}

/** A data config (CSV or images) of the experiment, validated with errors naming `where`. */
const parseSiteData = (where: string, raw: unknown) => parseConfig(where, raw, siteDataConfigSchema);

/** Seed stream for the partitioner, apart from the ones sampling, batches and initialization use. */
const PARTITION_STREAM = 0x70617274;

/**
 * Virtual clients cut from one dataset by the configured partitioner, each with its own train/test split.
 * The whole dataset is always read and partitioned (the partition depends on every row), then only `range`
 * is split and kept: client i's rows, split and name are the same whichever process builds it.
 */
async function partitionedClients(config: ExperimentConfig, baseDir: string, print: (line: string) => void, range?: ClientRange): Promise<ClientData[]> {
  const spec = config.partition!;
  const dataConfig = parseSiteData('dataDefaults', config.dataDefaults);
  const whole = await loadSiteData(dataConfig, baseDir, print);
  // Every row is dealt out; each client then holds out its own test rows.
  const table = concatTables([whole.train, whole.test]);
  const parts = partitionRows(spec, table.y, mixSeed(config.seed, PARTITION_STREAM));
  const classes = Math.max(2, specOutputs(config.model));
  const start = range?.start ?? 0;
  const end = range?.end ?? parts.length;
  const kept = parts.slice(start, end);
  const histograms = labelHistogram(table.y, kept, classes);
  return kept.map((rows, k) => {
    const i = start + k;
    const name = virtualClientName(i, parts.length);
    const own = trainTestSplit(takeRows(table, rows), { testFraction: dataConfig.testFraction, stratify: dataConfig.stratify, seed: mixSeed(config.seed, i) });
    if (k < 20 || k === kept.length - 1) print(`${name}: ${describeLabelCounts(histograms[k]!)}`);
    else if (k === 20) print(`... (${kept.length - 21} more clients)`);
    return {
      name,
      data: {
        train: own.train,
        test: own.test,
        meta: { ...whole.meta, rowsKept: rows.length, trainRows: own.train.rows, testRows: own.test.rows, stratified: own.stratified, standardized: false },
      },
    };
  });
}

/** The experiment's clients (its `clients` list, or `range` of its `partition`), scaled as its standardization says. */
export async function loadClients(config: ExperimentConfig, baseDir: string, print: (line: string) => void, range?: ClientRange): Promise<ClientData[]> {
  const raw = await loadRawClients(config, baseDir, print, range);
  const scaling = config.publicScaling;
  if (config.standardization !== 'public' || !scaling) return raw;
  // Each client scales its own rows from the public ranges, as a hospital's node does; nothing is pooled for it.
  return raw.map((c) => {
    let scaled: ReturnType<typeof applyPublicScaling>;
    try {
      scaled = applyPublicScaling(c.data, scaling);
    } catch (e) {
      throw new Error(`client ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const clipped = describeClipped(scaled.report);
    if (clipped) print(`client ${c.name}: values outside their public range clipped to it (${clipped})`);
    return { name: c.name, data: { train: scaled.train, test: scaled.test, meta: { ...c.data.meta, publicScaling: scaled.report } } };
  });
}

async function loadRawClients(config: ExperimentConfig, baseDir: string, print: (line: string) => void, range?: ClientRange): Promise<ClientData[]> {
  if (config.partition) return partitionedClients(config, baseDir, print, range);
  if (range) throw new Error('a range of clients is taken from a partition: the experiment lists its clients instead');
  const clients = config.clients ?? [];
  if (clients.length === 0) throw new Error('simulate needs a "clients" list (or a "partition") in the experiment config');
  // Raw rows: the experiment's `standardization` decides how they are scaled.
  const loaded: ClientData[] = [];
  for (const c of clients) loaded.push({ name: c.name, data: await loadSiteData(parseSiteData(`clients.${c.name}.data`, { ...config.dataDefaults, ...c.data }), baseDir, print) });
  // Checked before anything starts (the coordinator would refuse the site at connect time just the same).
  const study = config.dataSchema ?? loaded[0]!.data.meta.schema;
  for (const c of loaded) {
    // Image sites have no named columns: their fingerprint (size and channels) stands for the schema.
    const site = c.data.meta.schema;
    const mismatch = study && site ? schemaMismatch(study, site) : c.data.meta.schemaFingerprint !== loaded[0]!.data.meta.schemaFingerprint ? `features [${c.data.train.featureNames.length} values] differ from ${loaded[0]!.name}'s` : undefined;
    if (mismatch) throw new Error(`client ${c.name}: ${mismatch} against ${config.dataSchema ? "the experiment's dataSchema" : `${loaded[0]!.name}'s columns`}: every client must produce the same columns`);
  }
  return loaded;
}
