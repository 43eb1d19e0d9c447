import { z } from 'zod';

/** DICOM display window (PS3.3 C.11.2.1.2): values below center - width/2 go to black, above center + width/2 to white. */
const windowSchema = z.strictObject({ center: z.number(), width: z.number().positive() });

/**
 * A client's images: a folder with one subfolder per class (`<folder>/<class>/<file>`), or a CSV manifest with the
 * columns `file` (relative to the manifest), `label` and optionally `site`. PNG, JPEG and DICOM files are read;
 * every image becomes `height x width x channels` values, flattened row by row, as the model's inputShape expects.
 */
export const imageDataConfigSchema = z
  .strictObject({
    type: z.literal('images'),
    folder: z.string().min(1).optional(),
    manifest: z.string().min(1).optional(),
    /** Class names in label order (label i = classes[i]); default: the folder names or manifest labels, sorted. */
    classes: z.array(z.string().min(1)).min(1).optional(),
    /** With `site`, only the manifest rows of this site (a hospital's share of a shared manifest). */
    site: z.string().min(1).optional(),
    height: z.number().int().min(1).max(4_096),
    width: z.number().int().min(1).max(4_096),
    /** 1: grey (colour images are converted with the ITU-R BT.601 luma weights); 3: RGB (grey images are repeated). */
    channels: z.union([z.literal(1), z.literal(3)]).default(1),
    /** Resize (bilinear) images of another size; false refuses them, naming the file and both sizes. */
    resize: z.boolean().default(true),
    /** After scaling to [0, 1] (8-bit grey level / 255, DICOM after windowing): (v - mean) / std, per channel. */
    normalize: z.strictObject({ mean: z.array(z.number()).min(1).max(3), std: z.array(z.number().positive()).min(1).max(3) }).optional(),
    /** DICOM: the window to apply after the rescale slope and intercept; default the file's own WindowCenter/Width, else its min-max. */
    dicomWindow: windowSchema.optional(),
    testFraction: z.number().gt(0).lt(1).default(0.25),
    stratify: z.boolean().default(true),
    seed: z.number().int().default(42),
  })
  .superRefine((c, ctx) => {
    if ((c.folder === undefined) === (c.manifest === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['folder'], message: 'give exactly one of folder (a subfolder per class) and manifest (a CSV of file,label[,site])' });
    }
    if (c.site !== undefined && c.manifest === undefined) ctx.addIssue({ code: 'custom', path: ['site'], message: 'site selects rows of a manifest: give manifest too' });
    if (c.normalize) {
      for (const key of ['mean', 'std'] as const) {
        const n = c.normalize[key].length;
        if (n !== 1 && n !== c.channels) ctx.addIssue({ code: 'custom', path: ['normalize', key], message: `give 1 value or one per channel (${c.channels}), got ${n}` });
      }
    }
  });
/** An image data set as parsed: where the files are, their size and channels, and how labels are read. */
export type ImageDataConfig = z.infer<typeof imageDataConfigSchema>;
export type ImageDataConfigInput = z.input<typeof imageDataConfigSchema>;
