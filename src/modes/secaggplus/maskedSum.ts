import type { UploadTarget } from '../../coordinator/uploadTarget.js';
import { addPacked, checkPacked, packedLength, reduceMod } from '../../crypto/secagg/bitPacking.js';
import { UploadSlots } from '../ckks/uploadSlots.js';

/**
 * The sum of the masked uploads that committed, and who they came from. An upload is the model's values of
 * Z_(2^bits) packed at `bits` bits each (bitPacking.ts); it streams into its own buffer (bytes may split values
 * anywhere) and joins the sum only when whole and signed, so a broken upload leaves no trace; at most `slots`
 * buffers exist at once (later uploads wait at their header), so memory is O(model), not O(clients x model).
 * The sum is kept mod 2^32 (the masks are removed from it there) and reduced mod 2^bits by `reduce`.
 */
export class MaskedSum {
  readonly sum: Uint32Array;
  readonly contributors: string[] = [];
  /** Bytes of one upload: ceil(length x bits / 8). */
  readonly uploadBytes: number;
  private readonly slots: UploadSlots;

  constructor(
    readonly length: number,
    readonly bits = 32,
    slots = 2,
  ) {
    this.sum = new Uint32Array(length);
    this.uploadBytes = packedLength(length, bits);
    this.slots = new UploadSlots(slots);
  }

  /** Where the round's fit uploads go: masked values only, packed, of exactly the model's length. */
  target(expected: ReadonlySet<string>): UploadTarget {
    const describe = () => `${this.length} values at ${this.bits} bits pack into ${this.uploadBytes} bytes`;
    return {
      label: 'secaggplus',
      open: async (meta, client) => {
        if (meta.kind !== 'fit-result' || !meta.masked) throw new Error('this round aggregates under SecAgg+: only a masked update is accepted');
        if (!expected.has(client.name)) throw new Error(`${client.name} took no part in this round's key exchange`);
        if (this.contributors.includes(client.name)) throw new Error(`${client.name} already contributed to this round`);
        const release = await this.slots.acquire();
        const bytes = new Uint8Array(this.uploadBytes);
        let filled = 0;
        return {
          write: (chunk) => {
            if (filled + chunk.length > bytes.length) throw new Error(`the masked update is longer than expected: ${describe()}`);
            bytes.set(chunk, filled);
            filled += chunk.length;
          },
          end: () => {
            if (filled !== bytes.length) throw new Error(`the masked update has ${filled} bytes; ${describe()}`);
            checkPacked(bytes, this.length, this.bits);
          },
          commit: () => {
            addPacked(this.sum, bytes, this.bits);
            this.contributors.push(client.name);
            release();
          },
          abort: () => release(),
        };
      },
    };
  }

  /** Reduces the unmasked sum mod 2^bits: the survivors' encodings summed in Z_(2^bits). */
  reduce(): void {
    reduceMod(this.sum, this.bits);
  }
}
