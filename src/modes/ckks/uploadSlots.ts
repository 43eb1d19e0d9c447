/**
 * At most `count` encrypted uploads stream into the sum at once. The sum keeps each in-flight upload's
 * ciphertexts so a failed one can be taken back out (16 bytes a value each), so without a bound the
 * coordinator's memory grows with clients x model; with it, later uploads wait at their header (the
 * transport's back-pressure), as plaintext uploads wait for an aggregation slot.
 */
export class UploadSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`upload slots must be a positive integer, got ${count}`);
    this.free = count;
  }

  /** Resolves with a release function once a slot is free; call it exactly once when the upload ends. */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
