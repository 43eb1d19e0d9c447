import { createSeededRng, shuffleInPlace } from '../../protocol/seededRng.js';
import { sampleDirichlet } from '../sampling/seededDistributions.js';
import { checkClientCount, checkMinSize, PartitionError, rowsByClass, type Partition } from './partition.js';

/** Options of dirichletPartition: label skew drawn from a Dirichlet distribution. */
export interface DirichletPartitionOptions {
  /** Number of clients. */
  readonly clients: number;
  /** Concentration: small (0.1) gives few classes per client; large (100) approaches IID. Must be > 0. */
  readonly alpha: number;
  /** Seeds the draws. */
  readonly seed: number;
  /** Every client gets at least this many rows, or the sampling is repeated. Default 10 (Flower's). */
  readonly minSize?: number;
  /**
   * Stop giving a class's rows to a client that already holds more than rows / clients (the reference code's
   * balancing, Flower's `self_balancing`). Default true, as in Flower.
   */
  readonly selfBalancing?: boolean;
  /** Samplings tried before giving up on `minSize`. Default 11 (Flower tries 0..10). */
  readonly maxAttempts?: number;
}

/**
 * Label-skewed non-IID split: for each class, the shares of its rows across clients follow Dir(alpha)
 * (Yurochkin et al. 2019, "Bayesian nonparametric federated learning of neural networks"; Hsu et al. 2019),
 * as Flower's DirichletPartitioner does it. When some client ends up with fewer than `minSize` rows the whole
 * sampling is repeated with the generator's next draws, up to `maxAttempts` times, then a PartitionError
 * says what was reached. The result is a pure function of (labels, options).
 */
export function dirichletPartition(labels: ArrayLike<number>, options: DirichletPartitionOptions): Partition {
  const { clients, alpha } = options;
  const rows = labels.length;
  const minSize = options.minSize ?? 10;
  const maxAttempts = options.maxAttempts ?? 11;
  checkClientCount(clients, rows);
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new RangeError(`alpha must be positive and finite, got ${alpha}`);
  checkMinSize(minSize, clients, rows);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);

  const classes = [...rowsByClass(labels).entries()].sort((a, b) => a[0] - b[0]);
  const rng = createSeededRng(options.seed);
  const concentration = new Array<number>(clients).fill(alpha);
  const average = rows / clients;
  let smallest = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const parts: Partition = Array.from({ length: clients }, () => []);
    for (const [, classRows] of classes) {
      const members = shuffleInPlace([...classRows], rng);
      let shares = sampleDirichlet(concentration, rng);
      if (options.selfBalancing ?? true) {
        const open = shares.map((p, c) => (parts[c]!.length > average ? 0 : p));
        const total = open.reduce((s, p) => s + p, 0);
        // At least one client is at or under the average, but its share can underflow to 0 for tiny alpha:
        // then keep the unbalanced shares rather than divide by zero.
        if (total > 0) shares = open.map((p) => p / total);
      }
      let cumulative = 0;
      let from = 0;
      shares.forEach((p, c) => {
        cumulative += p;
        const to = c === clients - 1 ? members.length : Math.min(members.length, Math.floor(cumulative * members.length));
        for (let i = from; i < to; i++) parts[c]!.push(members[i]!);
        from = Math.max(from, to);
      });
    }
    smallest = Math.min(...parts.map((p) => p.length));
    if (smallest >= minSize) return parts.map((p) => shuffleInPlace(p, rng));
  }
  throw new PartitionError(
    `Dirichlet partition (alpha ${alpha}, ${clients} clients, ${rows} rows): after ${maxAttempts} attempts some client still had ` +
      `${smallest} row(s), fewer than minSize ${minSize}. Raise alpha, lower minSize or the number of clients, or allow more attempts`,
  );
}
