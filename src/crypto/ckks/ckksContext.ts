import type { ComprModeType, SEALContext } from 'node-seal';
import { CkksError, sealCall } from './ckksError.js';
import { DEFAULT_CKKS_PARAMETERS, checkCkksParameters, type CkksParameters } from './ckksParameters.js';
import { maxCiphertextBytes } from './ckksSizes.js';
import { contributionBound, encodeBound, sumBound } from './headroom.js';
import { loadSeal, type Seal } from './sealRuntime.js';

/**
 * Validated CKKS parameters and the SEAL context built from them. Holds no key: the coordinator builds
 * one from the parameters alone. Every side (client or coordinator) borrows it; dispose it last.
 */
export class CkksContext {
  readonly parameters: CkksParameters;
  /** Values per ciphertext: N, one a coefficient (coefficientEncoding.ts). */
  readonly valuesPerCiphertext: number;
  /** 2^scaleBits. */
  readonly scale: number;
  /** Largest |sum| a slot holds without wrapping (see headroom.ts). */
  readonly sumBound: number;
  /**
   * Each client's weighted values are clipped to +-this, so maxContributors updates cannot overflow:
   * sumBound / maxContributors, at most about 2^18 (what SEAL encodes in one update) for the defaults.
   */
  readonly contributionBound: number;
  /** Primes of the level ciphertexts live at (all but SEAL's special prime). */
  readonly dataPrimeCount: number;
  /** q at that level: coefficients live modulo it. */
  readonly dataModulus: bigint;
  /** Largest frame a well-formed ciphertext of these parameters can need, compressed or not. */
  readonly maxCiphertextBytes: number;
  /** @internal node-seal module, for the sides built on this context. */
  readonly seal: Seal;
  /** @internal */
  readonly context: SEALContext;
  /** @internal */
  readonly comprMode: ComprModeType;
  private disposed = false;

  private constructor(seal: Seal, context: SEALContext, parameters: CkksParameters, dataModulus: bigint, dataPrimeCount: number) {
    this.seal = seal;
    this.context = context;
    this.parameters = parameters;
    this.valuesPerCiphertext = parameters.polyModulusDegree;
    this.dataModulus = dataModulus;
    this.scale = 2 ** parameters.scaleBits;
    this.sumBound = sumBound(dataModulus, this.scale);
    this.contributionBound = contributionBound(this.sumBound, parameters.maxContributors, encodeBound(dataModulus, this.scale));
    this.dataPrimeCount = dataPrimeCount;
    this.maxCiphertextBytes = maxCiphertextBytes(parameters);
    this.comprMode = seal.ComprModeType[parameters.compression];
  }

  /**
   * Builds the context and checks it before any key exists: valid parameters (SEAL's `parametersSet()`),
   * 128-bit security (the coefficient modulus within SEAL's `tc128` limit for N), a usable scale.
   */
  static async create(parameters: Partial<CkksParameters> = {}): Promise<CkksContext> {
    const p: CkksParameters = { ...DEFAULT_CKKS_PARAMETERS, ...parameters, coeffModulusBits: [...(parameters.coeffModulusBits ?? DEFAULT_CKKS_PARAMETERS.coeffModulusBits)] };
    checkCkksParameters(p);
    const seal = await loadSeal();
    const n = p.polyModulusDegree;
    const totalBits = p.coeffModulusBits.reduce((a, b) => a + b, 0);
    const maxBits = seal.CoeffModulus.MaxBitCount(n, seal.SecLevelType.tc128);
    if (totalBits > maxBits) {
      throw new CkksError(`a ${totalBits}-bit coefficient modulus is not 128-bit secure at N = ${n}: SEAL allows at most ${maxBits} bits (use fewer or smaller primes, or a larger N)`);
    }
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    let primes: ReturnType<Seal['CoeffModulus']['Create']> | undefined;
    let context: SEALContext | undefined;
    try {
      parms.setPolyModulusDegree(n);
      primes = sealCall(`no ${p.coeffModulusBits.join('+')}-bit primes suit N = ${n}`, () => seal.CoeffModulus.Create(n, Int32Array.from(p.coeffModulusBits)));
      parms.setCoeffModulus(primes);
      const ctx = sealCall('building the SEAL context', () => new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
      context = ctx;
      if (!ctx.parametersSet()) throw new CkksError(`SEAL rejects the parameters (N = ${n}, primes of ${p.coeffModulusBits.join(', ')} bits)`);
      const { security, dataModulus, dataPrimes } = inspect(ctx);
      if (security !== seal.SecLevelType.tc128.value) throw new CkksError(`the SEAL context reports ${security}-bit security, expected 128`);
      if (dataPrimes !== 1) throw new CkksError(`coefficient encoding works under one data prime; primes of ${p.coeffModulusBits.join(', ')} bits leave ${dataPrimes} (use one prime, or two where SEAL keeps the last for key switching)`);
      const built = new CkksContext(seal, ctx, p, dataModulus, dataPrimes);
      context = undefined;
      return built;
    } finally {
      context?.delete();
      primes?.delete();
      parms.delete();
    }
  }

  /** Ciphertexts that carry `values` values (the last one zero padded). */
  ciphertextCount(values: number): number {
    return Math.ceil(values / this.valuesPerCiphertext);
  }

  /** @internal Throws if disposed; the sides call it before touching SEAL. */
  check(): void {
    if (this.disposed) throw new CkksError('the CKKS context has been disposed');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the SEAL context. Sides built on it keep SEAL's own reference and stay usable until disposed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.context.delete();
  }
}

/** Reads the security level and the data-level modulus q out of the context, freeing each handle it gets. */
function inspect(ctx: SEALContext): { security: number; dataModulus: bigint; dataPrimes: number } {
  const keyData = ctx.keyContextData();
  const firstData = ctx.firstContextData();
  const qualifiers = keyData.qualifiers();
  const parms = firstData.parms();
  const moduli = parms.coeffModulus();
  try {
    let q = 1n;
    for (let i = 0; i < moduli.size(); i++) {
      const m = moduli.get(i);
      if (m === undefined) throw new CkksError(`coefficient prime ${i} is missing`);
      q *= m.value();
      m.delete();
    }
    return { security: qualifiers.securityLevel.value, dataModulus: q, dataPrimes: moduli.size() };
  } finally {
    moduli.delete();
    parms.delete();
    qualifiers.delete();
    firstData.delete();
    keyData.delete();
  }
}
