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

/** The TLS mistakes a coordinator reports, as they come. */
function coordinatorMistakes(coordinator: Coordinator): string[] {
  const said: string[] = [];
  coordinator.on('tls-mistake', ({ problem }) => said.push(problem));
  return said;
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

/**
 * Waits until the outsider has failed to connect `attempts` times, then checks it never got anywhere and said
 * its TLS mistake once, in the words `problem` expects.
 */
async function expectKeptOut(coordinator: Coordinator, o: Outsider, problem: RegExp, attempts = 3): Promise<void> {
  await waitUntil(() => o.failedAttempts() >= attempts && o.events.some((e) => e.type === 'tls-problem'), `${attempts} failed connection attempts and a diagnosis`);
  // 'connected' comes with socket.io's own handshake: the node never got past TLS to say hello. It says what
  // is wrong, once, and keeps trying (a TLS failure may be a certificate being rotated), and nothing else.
  const said = o.events.filter((e) => e.type === 'tls-problem');
  expect(said).toHaveLength(1);
  expect(said[0]!.problem).toMatch(problem);
  expect(o.events.filter((e) => e.type !== 'retrying' && e.type !== 'tls-problem').map((e) => e.type)).toEqual([]);
  expect(o.events.every((e) => e.type === 'tls-problem' || (e.type === 'retrying' && e.cause === 'unreachable'))).toBe(true);
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
    const mistakes = coordinatorMistakes(coordinator);
    // The server sends its leaf certificate only; without the CA the chain cannot be built.
    expect(await probeSocketIo(coordinator.url)).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((await probeTls(coordinator.url, {})).errorCode).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    const untrusting = outsider(coordinator.url, 'untrusting', {});
    await expectKeptOut(coordinator, untrusting, /^the coordinator's certificate is not signed by a CA this node trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE; a self-signed or private CA\) and tls\.ca is not set: set tls\.ca to the CA certificate \(PEM\) the coordinator's operator gives you$/);
    const wrongCa = outsider(coordinator.url, 'wrong-ca', { tls: { ca: pki.strangerClient.cert } });
    await expectKeptOut(coordinator, wrongCa, /^the coordinator's certificate is not signed by the CA in tls\.ca \(\w+\): set tls\.ca to the CA certificate that signed the coordinator's certificate/);
    // The coordinator sees the client hang up mid-handshake, and says what that usually means.
    await waitUntil(() => mistakes.length > 0, 'the coordinator reports the abandoned handshake');
    expect(mistakes[0]).toBe("a client at 127.0.0.1 abandoned the TLS handshake: most often it does not trust this coordinator's certificate (its tls.ca is missing or names another CA)");

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
    const mistakes = coordinatorMistakes(coordinator);

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
    await expectKeptOut(coordinator, noCertNode, /^the coordinator requires a client certificate \(mutual TLS\) and this node has none: set tls\.cert and tls\.key in this node's config/);
    await waitUntil(() => mistakes.some((m) => m.includes('sent no client certificate')), 'the coordinator reports the missing certificate');
    expect(mistakes).toContain("a client at 127.0.0.1 sent no client certificate, and this coordinator requires one (tls.requestClientCert): give the site a certificate and key signed by this coordinator's tls.ca, set as tls.cert and tls.key in its config");
    const strangerNode = outsider(url, 'stranger', { tls: { ca: pki.ca.cert, ...pki.strangerClient } });
    await expectKeptOut(coordinator, strangerNode, /^the coordinator closed the TLS handshake: under mutual TLS this means it does not accept this node's certificate/);

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
    const mistakes = coordinatorMistakes(coordinator);
    // The server reads the HTTP upgrade as a broken TLS ClientHello and drops the connection.
    expect(await probeSocketIo(plainUrl)).toBe('ECONNRESET');
    const plain = outsider(plainUrl, 'plain', { tls: { ca: pki.ca.cert } });
    await expectKeptOut(coordinator, plain, new RegExp(`^the coordinator at ${plainUrl} serves HTTPS, and this node connects with http://: use https://127\\.0\\.0\\.1:\\d+ in the coordinator URL`));
    await waitUntil(() => mistakes.some((m) => m.includes('plain HTTP')), 'the coordinator reports the plain-HTTP client');
    expect(mistakes).toContain('a client at 127.0.0.1 speaks plain HTTP (an http:// URL) to this HTTPS coordinator: its coordinator URL must start with https://');
  });

  it('says so on both sides when a node uses https:// for a plain-HTTP coordinator', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, logger: silent });
    const mistakes = coordinatorMistakes(coordinator);
    const tlsUrl = coordinator.url.replace(/^http:/, 'https:');
    const node = outsider(tlsUrl, 'tls-node', { tls: { ca: pki.ca.cert } });
    await expectKeptOut(coordinator, node, /^the coordinator at https:\/\/127\.0\.0\.1:\d+ serves plain HTTP, not HTTPS: use http:\/\/127\.0\.0\.1:\d+ in the coordinator URL, or ask its operator to enable TLS/);
    await waitUntil(() => mistakes.length > 0, 'the coordinator reports the TLS client');
    expect(mistakes[0]).toBe("a client at 127.0.0.1 speaks TLS (an https:// URL) to this plain-HTTP coordinator: give it this coordinator's http:// URL, or serve TLS here (tls: { cert, key })");
    // The coordinator still serves a correct client.
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    expect((await coordinator.run()).history).toHaveLength(1);
  });
});
