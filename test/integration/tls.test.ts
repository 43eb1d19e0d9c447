import { silent } from '../helpers/silentLogger.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, ClientOptions } from '../../src/client/clientNode.js';
import type { Coordinator } from '../../src/coordinator/coordinator.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { memoryLogger, type LogRecord } from '../helpers/memoryLogger.js';
import { createTestPki, type TestPki } from '../helpers/testCertificates.js';
import { probeSocketIo, probeTls } from '../helpers/tlsProbe.js';
import { waitUntil } from '../helpers/waitUntil.js';

const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };
const zeros = linearZeros;

function trainer(i: number): LinearTrainer {
  const d = linearData(20 + 10 * i, i + 1);
  return new LinearTrainer(d.xs, d.ys, `h${i}`);
}

/** What a client node that should never get in did and logged. */
interface Outsider {
  readonly events: ClientEvent[];
  readonly records: LogRecord[];
  /** Connection attempts that failed below socket.io (the node retries each with backoff). */
  failedAttempts(): number;
}

let pki: TestPki;
let fed: TestFederation;
beforeAll(() => {
  pki = createTestPki();
});
afterEach(async () => fed.close());

/** Starts a node expected to be kept out, recording its events and its debug log. */
function outsider(url: string, name: string, extra: Partial<ClientOptions>): Outsider {
  const events: ClientEvent[] = [];
  const { logger, records } = memoryLogger();
  fed.client(url, name, trainer(9), { logger, onEvent: (e) => events.push(e), ...extra });
  return { events, records, failedAttempts: () => records.filter((r) => r.msg?.startsWith('connection attempt failed')).length };
}

/** Waits until the outsider has failed to connect `attempts` times, then checks it never got anywhere. */
async function expectKeptOut(coordinator: Coordinator, o: Outsider, attempts = 3): Promise<void> {
  await waitUntil(() => o.failedAttempts() >= attempts, `${attempts} failed connection attempts`);
  // 'connected' comes with socket.io's own handshake: the node never got past TLS to say hello. It says it
  // keeps trying (a TLS failure may be a certificate being rotated), and nothing else.
  expect(o.events.filter((e) => e.type !== 'retrying').map((e) => e.type)).toEqual([]);
  expect(o.events.every((e) => e.type === 'retrying' && e.cause === 'unreachable')).toBe(true);
  expect(coordinator.clients).toEqual([]);
  // Nothing reached the coordinator's socket.io layer, so it refused nothing there either.
  expect(coordinator.refusals).toBe(0);
}

describe('a federation over TLS (HTTPS/WSS) with certificates from a throwaway CA', () => {
  it('completes its rounds with clients that trust the CA', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fit }), initialWeights: zeros(), rounds: 3, host: '127.0.0.1', tls: pki.server, logger: silent });
    expect(coordinator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const welcomed: string[] = [];
    for (const i of [0, 1, 2]) {
      fed.client(coordinator.url, `h${i}`, trainer(i), {
        tls: { ca: pki.ca.cert },
        coordinatorKey: coordinator.identity.publicKey,
        logger: silent,
        onEvent: (e) => void (e.type === 'welcome' && welcomed.push(`h${i}`)),
      });
    }
    const result = await coordinator.run();
    expect(welcomed.sort()).toEqual(['h0', 'h1', 'h2']);
    expect(result.history).toHaveLength(3);
    for (const r of result.history) {
      expect(r.attempts).toBe(1);
      expect(r.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1', 'h2']);
    }
    const losses = result.history.map((r) => r.evaluate!.loss!);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    expect(result.weights[0]!.data[0]).toBeGreaterThan(0.1); // toward y = 2 x0 - 3 x1 + 1
    expect(result.weights[0]!.data[1]).toBeLessThan(-0.1);
  });

  it('keeps out a client that does not trust the CA, and still serves one that does', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, tls: pki.server, logger: silent });
    // The server sends its leaf certificate only; without the CA the chain cannot be built.
    expect(await probeSocketIo(coordinator.url)).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((await probeTls(coordinator.url, {})).errorCode).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    const untrusting = outsider(coordinator.url, 'untrusting', {});
    await expectKeptOut(coordinator, untrusting);

    fed.client(coordinator.url, 'h0', trainer(0), { tls: { ca: pki.ca.cert }, logger: silent });
    const result = await coordinator.run();
    expect(result.history[0]!.fit.outcomes.map((o) => o.client)).toEqual(['h0']);
    // It kept retrying throughout the run and never got in.
    expect(untrusting.events.some((e) => e.type === 'welcome' || e.type === 'connected')).toBe(false);
  });

  it('with mutual TLS, admits a client with a certificate from the CA and refuses others at the TLS layer', async () => {
    fed = new TestFederation();
    const roster: string[][] = [];
    const coordinator: Coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 1, fit }),
      initialWeights: zeros(),
      rounds: 2,
      tls: { ...pki.server, ca: pki.ca.cert, requestClientCert: true },
      logger: silent,
      onRound: () => roster.push(coordinator.clients.map((c) => c.name).sort()),
    });
    const { url } = coordinator;

    // The same HTTP request over raw TLS: answered with a certificate from the CA, never answered without one.
    const withCert = await probeTls(url, { ca: pki.ca.cert, ...pki.client });
    expect(withCert.httpStatus).toMatch(/^HTTP\/1\.1 \d{3} /);
    const noCert = await probeTls(url, { ca: pki.ca.cert });
    expect(noCert.errorCode).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(noCert.httpStatus).toBeUndefined();
    // A well-formed certificate from another CA: the server hangs up before reading the request.
    const stranger = await probeTls(url, { ca: pki.ca.cert, ...pki.strangerClient });
    expect(stranger.httpStatus).toBeUndefined();
    expect(await probeSocketIo(url, { ca: pki.ca.cert })).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');

    const noCertNode = outsider(url, 'no-cert', { tls: { ca: pki.ca.cert } });
    const strangerNode = outsider(url, 'stranger', { tls: { ca: pki.ca.cert, ...pki.strangerClient } });
    await expectKeptOut(coordinator, noCertNode);
    await expectKeptOut(coordinator, strangerNode);

    const welcomed: string[] = [];
    fed.client(url, 'h0', trainer(0), {
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      coordinatorKey: coordinator.identity.publicKey,
      logger: silent,
      onEvent: (e) => void (e.type === 'welcome' && welcomed.push(e.clientId)),
    });
    const result = await coordinator.run();
    expect(welcomed).toHaveLength(1);
    expect(roster).toEqual([['h0'], ['h0']]);
    for (const r of result.history) expect(r.fit.outcomes).toEqual([expect.objectContaining({ client: 'h0', numExamples: 20 })]);
    expect(result.weights[0]!.data[0]).toBeGreaterThan(0.1);
    for (const o of [noCertNode, strangerNode]) expect(o.events.some((e) => e.type === 'connected')).toBe(false);
    expect(coordinator.refusals).toBe(0);
  });

  it('does not let a plain http:// client in on the https port', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, tls: pki.server, logger: silent });
    const plainUrl = coordinator.url.replace(/^https:/, 'http:');
    // The server reads the HTTP upgrade as a broken TLS ClientHello and drops the connection.
    expect(await probeSocketIo(plainUrl)).toBe('ECONNRESET');
    const plain = outsider(plainUrl, 'plain', { tls: { ca: pki.ca.cert } });
    await expectKeptOut(coordinator, plain);
  });
});
