import type { z } from 'zod';
import { walkLayers } from '../../client/model/layerSpec.js';
import type { ModelSpec } from '../../client/model/modelSpec.js';

/**
 * What a model spec cannot combine with, refused when the config is read: batch normalization under example-level
 * DP-SGD, whose batch statistics mix the examples of a batch, so one record's influence on every other example's
 * gradient is not bounded by the clip norm (the trainer refuses it too; here the config names the layer first).
 * Client-level DP (privacy:) clips whole updates and is unaffected.
 */
export function checkModelConfig(c: { readonly model: ModelSpec; readonly dpSgd?: unknown }, ctx: z.RefinementCtx): void {
  if (c.model.type !== 'layers' || c.dpSgd === undefined) return;
  for (const { layer, path } of walkLayers(c.model.layers)) {
    if (layer.type !== 'batchNorm') continue;
    ctx.addIssue({
      code: 'custom',
      path: path.slice(0),
      message:
        'batchNorm cannot train under dpSgd: batch statistics mix the examples of a batch, so one record changes every other ' +
        "example's gradient and the per-example clip no longer bounds its influence; remove the layer, or use client-level privacy instead of dpSgd",
    });
  }
}
