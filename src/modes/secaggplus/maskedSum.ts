import type { UploadTarget } from '../../coordinator/uploadTarget.js';
import { UploadSlots } from '../ckks/uploadSlots.js';

/**
 * The sum mod 2^32 of the masked uploads that committed, and who they came from. Each upload streams into its
 * own buffer (bytes may split words anywhere) and joins the sum only when whole and signed, so a broken upload
 * leaves no trace; at most `slots` buffers exist at once (later uploads wait at their header), so memory is
 * O(model), not O(clients x model).
 */
export class MaskedSum {
  readonly sum: Uint32Array;
  readonly contributors: string[] = [];
  private readonly slots: UploadSlots;

  constructor(
    readonly length: number,
    slots = 2,
  ) {
    this.sum = new Uint32Array(length);
    this.slots = new UploadSlots(slots);
  }

  /** Where the round's fit uploads go: masked words only, of exactly the model's length. */
  target(expected: ReadonlySet<string>): UploadTarget {
    return {
      label: 'secaggplus',
      open: async (meta, client) => {
        if (meta.kind !== 'fit-result' || !meta.masked) throw new Error('this round aggregates under SecAgg+: only a masked update is accepted');
        if (!expected.has(client.name)) throw new Error(`${client.name} took no part in this round's key exchange`);
        if (this.contributors.includes(client.name)) throw new Error(`${client.name} already contributed to this round`);
        const release = await this.slots.acquire();
        const bytes = new Uint8Array(4 * this.length);
        let filled = 0;
        return {
          write: (chunk) => {
            if (filled + chunk.length > bytes.length) throw new Error(`the masked update is longer than the ${this.length} values of the model`);
            bytes.set(chunk, filled);
            filled += chunk.length;
          },
          end: () => {
            if (filled !== bytes.length) throw new Error(`the masked update has ${filled} bytes; the model needs ${bytes.length}`);
          },
          commit: () => {
            const words = new Uint32Array(bytes.buffer);
            const sum = this.sum;
            for (let i = 0; i < sum.length; i++) sum[i] = (sum[i]! + words[i]!) >>> 0;
            this.contributors.push(client.name);
            release();
          },
          abort: () => release(),
        };
      },
    };
  }
}
