/** Bumped whenever a message or stream layout changes incompatibly; peers must match exactly. */
/** 2: CKKS values are coefficient encoded (4,096 a ciphertext); a version-1 peer's ciphertexts would sum to garbage. */
/** 3: a stream that fits one chunk travels as one message (`stream:whole`), which a version-2 peer does not read. */
export const PROTOCOL_VERSION = 4;

/** The package version, announced in hello so the coordinator can record who ran what. */
export const COHORT_VERSION = '0.1.0';
