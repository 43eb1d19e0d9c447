import type { Logger } from 'pino';
import type { AccessList } from '../../coordinator/accessList.js';
import type { AuditTrail } from '../../coordinator/auditTrail.js';
import type { ClientRegistry } from '../../coordinator/clientRegistry.js';
import type { ClientSession } from '../../coordinator/clientSession.js';
import { encodeBase64 } from '../../crypto/keyEncoding.js';

export class CkksSetupError extends Error {
  override readonly name = 'CkksSetupError';
}

function recipientOf(session: ClientSession) {
  return {
    name: session.summary.name,
    identityKey: encodeBase64(session.publicKey),
    agreementKey: session.agreementKey!.publicKey,
    agreementSignature: session.agreementKey!.signature,
  };
}

/** The run's one CKKS key epoch: keys are generated once per run and never replaced. */
export const CKKS_KEY_EPOCH = 1;

/**
 * Who generates a run's CKKS key. With an allowlist it is the first client name on it, the rule every client
 * that pins the same roster computes for itself (a client refuses to generate, or to open a box, otherwise);
 * in open mode, the connected client whose name sorts first.
 */
function designatedDealer(access: AccessList, sessions: readonly ClientSession[]): string | undefined {
  const names = access.mode === 'allowlist' ? access.peers.filter((p) => p.role === 'client').map((p) => p.name) : sessions.map((s) => s.summary.name);
  return [...names].sort()[0];
}

/**
 * Has a key holder box the CKKS key for every connected client that lacks it, and relays the boxes. With no
 * holder yet, the designated dealer generates a fresh key for this run (waiting up to `deadlineMs` for it to
 * connect), unless `mayGenerate` is false (an encrypted global exists). The coordinator relays boxes it cannot
 * open; recipients the holder refuses (not on its roster, a key that does not verify) are audited.
 */
export async function distributeCkksKey(registry: ClientRegistry, access: AccessList, deadlineMs: number, log: Logger, audit: AuditTrail, options: { readonly mayGenerate: boolean }): Promise<void> {
  const clients = () => registry.all().filter((s) => s.open && s.role === 'client' && s.agreementKey);
  const holders = clients()
    .filter((s) => s.holdsRunKey)
    .sort((a, b) => (a.summary.name < b.summary.name ? -1 : 1));
  if (clients().every((s) => s.holdsRunKey)) return;
  const generate = holders.length === 0;
  if (generate && !options.mayGenerate) {
    // The encrypted global is under the run's key; a fresh key would make it undecryptable for everyone.
    throw new CkksSetupError(
      `no connected client holds this run's CKKS key, and the encrypted global model needs it (keys live only in the memory of the clients that took part): ` +
        'reconnect a client that still holds it, or start a new run',
    );
  }
  let dealer = holders[0];
  if (!dealer) {
    const name = designatedDealer(access, clients());
    if (name === undefined) return;
    const found = await waitForSession(() => clients().find((s) => s.summary.name === name), deadlineMs);
    if (!found) {
      log.warn({ dealer: name }, `the CKKS dealer ${name} (the first client name on the access list) has not connected; no key yet`);
      return;
    }
    dealer = found;
  }
  const recipients = clients().filter((s) => !s.holdsRunKey && s !== dealer);
  log.info({ dealer: dealer.summary.name, generate, recipients: recipients.map((s) => s.summary.name) }, 'distributing the CKKS key');
  audit.append('ckks-key-distribution', { dealer: dealer.summary.name, generated: generate, epoch: CKKS_KEY_EPOCH, recipients: recipients.map((s) => s.summary.name) });
  const boxes = await dealer.request({ type: 'ckks-deal', generate, epoch: CKKS_KEY_EPOCH, recipients: recipients.map(recipientOf) }, 'ckks-boxes', deadlineMs);
  if (generate) dealer.holdsRunKey = true;
  for (const r of boxes.refused ?? []) {
    log.warn({ dealer: dealer.summary.name, client: r.recipient, reason: r.reason }, 'the key holder refused to box the CKKS key for this client');
    audit.append('ckks-key-refused', { dealer: dealer.summary.name, client: r.recipient, reason: r.reason });
  }
  await Promise.all(
    recipients.map(async (session) => {
      const keyBox = boxes.boxes.find((b) => b.recipient === session.summary.name);
      if (!keyBox) return;
      await session
        .deliver({
          type: 'ckks-key',
          dealer: dealer.summary.name,
          epoch: CKKS_KEY_EPOCH,
          dealerIdentityKey: encodeBase64(dealer.publicKey),
          dealerAgreementKey: dealer.agreementKey!.publicKey,
          dealerAgreementSignature: dealer.agreementKey!.signature,
          keyBox,
        })
        .then(() => void (session.holdsRunKey = true))
        .catch((e: unknown) => log.warn({ client: session.summary.name, error: (e as Error).message }, 'client could not open its CKKS key box; it sits out'));
    }),
  );
}

/** Polls for a session (a dealer that has yet to connect) until `timeoutMs`. */
async function waitForSession(find: () => ClientSession | undefined, timeoutMs: number): Promise<ClientSession | undefined> {
  const until = performance.now() + timeoutMs;
  for (let found = find(); ; found = find()) {
    if (found || performance.now() >= until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

