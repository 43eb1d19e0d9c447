import { z } from 'zod';
import { csvDataConfigSchema, type CsvDataConfig } from './csvDataConfig.js';
import { imageDataConfigSchema, type ImageDataConfig } from './images/imageDataConfig.js';
import { loadImageData } from './images/loadImageData.js';
import { loadCsvData, type LoadedCsvData } from './loadCsvData.js';

export type SiteDataConfig = CsvDataConfig | ImageDataConfig;

/**
 * A client's `data:`: a CSV table (the default) or, with `type: images`, image files. Dispatched on `type` so that
 * an error names the fields of the kind meant, not of both.
 */
export const siteDataConfigSchema: z.ZodType<SiteDataConfig, unknown> = z.custom<unknown>().transform((raw, ctx): SiteDataConfig => {
  const images = typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'images';
  const parsed = images ? imageDataConfigSchema.safeParse(raw) : csvDataConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return parsed.data;
});

export const isImageData = (config: SiteDataConfig): config is ImageDataConfig => 'type' in config && config.type === 'images';

/** Loads a site's data unscaled (the experiment decides the scaling); images print their per-class summary. */
export async function loadSiteData(config: SiteDataConfig, baseDir: string, print: (line: string) => void): Promise<LoadedCsvData> {
  if (isImageData(config)) return loadImageData(config, baseDir, print);
  return loadCsvData({ ...config, standardize: false }, baseDir);
}
