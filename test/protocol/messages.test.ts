import { describe, expect, it } from 'vitest';
import { MAX_EXAMPLES, MAX_METRICS, MAX_REASON, MAX_TASK_EXTRAS, messageSchema, streamMetaSchema } from '../../src/protocol/messages.js';
import { rawHello } from '../helpers/rawHandshake.js';

const signature = Buffer.alloc(64).toString('base64');
const entries = (n: number, value: unknown) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, value]));

/** Parses `message` and returns the first issue's path and message, or 'ok'. */
function verdict(schema: typeof messageSchema | typeof streamMetaSchema, message: unknown): string {
  const parsed = schema.safeParse(message);
  if (parsed.success) return 'ok';
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('claims and fields the wire protocol bounds', () => {
  it('bounds the example counts a client announces at hello and claims in its results to 1e9', () => {
    const hello = (train: number, test = 10) => rawHello('h0', { capabilities: { backend: 'js', numTrainExamples: train, numTestExamples: test, cohortVersion: '0.1.0' } }).message;
    expect(MAX_EXAMPLES).toBe(1e9);
    expect(verdict(messageSchema, hello(1e9))).toBe('ok');
    expect(verdict(messageSchema, hello(1e15))).toMatch(/^capabilities\.numTrainExamples: Too big: expected number to be <=1000000000/);
    expect(verdict(messageSchema, hello(10, 1e9 + 1))).toMatch(/^capabilities\.numTestExamples: Too big/);
    const evaluation = { type: 'evaluate-result', round: 1, taskId: 't', numExamples: 1e15, loss: 0.5, metrics: {}, signature };
    expect(verdict(messageSchema, evaluation)).toMatch(/^numExamples: Too big/);
    const upload = { kind: 'fit-result', round: 1, taskId: 't', numExamples: 1e15, metrics: {} };
    expect(verdict(streamMetaSchema, upload)).toMatch(/^numExamples: Too big/);
    expect(verdict(streamMetaSchema, { kind: 'statistics-result', taskId: 't', numExamples: 1e15 })).toMatch(/^numExamples: Too big/);
    expect(verdict(streamMetaSchema, { ...upload, numExamples: 1e9 })).toBe('ok');
  });

  it('bounds reasons, metric records, task extras and ids in size', () => {
    const long = 'x'.repeat(MAX_REASON + 1);
    expect(verdict(messageSchema, { type: 'refused', reason: 'x'.repeat(MAX_REASON) })).toBe('ok');
    expect(verdict(messageSchema, { type: 'refused', reason: long })).toMatch(/^reason: Too big/);
    expect(verdict(messageSchema, { type: 'refused', reason: long, retryAfterMs: 1_000 })).toMatch(/^reason: Too big/);
    expect(verdict(messageSchema, { type: 'run-end', reason: long })).toMatch(/^reason: Too big/);
    expect(verdict(messageSchema, { type: 'welcome', protocolVersion: 1, runId: 'r'.repeat(129), clientId: 'c' })).toMatch(/^runId: Too big/);
    expect(verdict(messageSchema, { type: 'welcome', protocolVersion: 1, runId: 'r', clientId: 'c'.repeat(129) })).toMatch(/^clientId: Too big/);

    const evaluation = (metrics: unknown) => ({ type: 'evaluate-result', round: 1, taskId: 't', numExamples: 5, loss: 0.5, metrics, signature });
    expect(verdict(messageSchema, evaluation(entries(MAX_METRICS, 1)))).toBe('ok');
    expect(verdict(messageSchema, evaluation(entries(MAX_METRICS + 1, 1)))).toBe(`metrics: at most ${MAX_METRICS} entries`);
    const upload = (metrics: unknown) => ({ kind: 'fit-result', round: 1, taskId: 't', numExamples: 5, metrics });
    expect(verdict(streamMetaSchema, upload(entries(100_000, 1)))).toBe(`metrics: at most ${MAX_METRICS} entries`);
    expect(verdict(streamMetaSchema, upload({ loss: 'low' }))).toMatch(/^metrics\.loss: /);

    const task = (extra: unknown) => ({ kind: 'fit', round: 1, taskId: 't', config: { round: 1, epochs: 1, batchSize: 8, learningRate: 0.1, extra } });
    expect(verdict(streamMetaSchema, task({ clipNorm: 1, scaffold: true }))).toBe('ok');
    expect(verdict(streamMetaSchema, task(entries(MAX_TASK_EXTRAS + 1, 1)))).toBe(`config.extra: at most ${MAX_TASK_EXTRAS} entries`);
    expect(verdict(streamMetaSchema, task({ note: 'n'.repeat(1025) }))).toMatch(/^config\.extra\.note: /);
    expect(verdict(streamMetaSchema, task({ ['k'.repeat(129)]: 1 }))).toMatch(/^config\.extra\.k+: Invalid key/);
  });
});
