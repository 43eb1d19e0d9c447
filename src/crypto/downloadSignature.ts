import type { StreamMeta } from '../protocol/messages.js';
import { canonicalJson, type JsonValue } from './canonicalJson.js';
import { sign, verify } from './identity.js';
import { transcript } from './transcript.js';

/**
 * A signed download: the coordinator signs every task it streams over the run, the client it is for, the
 * task's whole header (kind, round, task id, training config, DP and secure-aggregation instructions) and the
 * payload's SHA-256, with its identity key, which the client pinned or proved in the handshake. Without TLS a
 * party on the path can then inject no weights and no instructions.
 */
export interface DownloadClaim {
  readonly runId: string;
  readonly client: string;
  readonly meta: StreamMeta;
  readonly payloadHash: string;
}

/** Canonical JSON of the header as it travels (undefined fields dropped), so both ends sign the same bytes. */
function metaText(meta: StreamMeta): string {
  return canonicalJson(JSON.parse(JSON.stringify(meta)) as JsonValue);
}

function downloadTranscript(d: DownloadClaim): Uint8Array {
  return transcript('cohort-download-v1', [d.runId, d.client, metaText(d.meta), d.payloadHash]);
}

/** The coordinator's signature (base64) over a download. */
export function signDownload(claim: DownloadClaim, coordinatorSecretKey: Uint8Array): string {
  return Buffer.from(sign(downloadTranscript(claim), coordinatorSecretKey)).toString('base64');
}

/** True when `signature` (base64) is the coordinator's over exactly this download. */
export function verifyDownload(claim: DownloadClaim, signature: string | undefined, coordinatorKey: Uint8Array): boolean {
  if (!signature) return false;
  const bytes = new Uint8Array(Buffer.from(signature, 'base64'));
  return bytes.length === 64 && verify(downloadTranscript(claim), bytes, coordinatorKey);
}
