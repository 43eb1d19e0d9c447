/** Bumped whenever a message or stream layout changes incompatibly; peers must match exactly. */
export const PROTOCOL_VERSION = 1;

/** The package version, announced in hello so the coordinator can record who ran what. */
export const COHORT_VERSION = '0.1.0';
