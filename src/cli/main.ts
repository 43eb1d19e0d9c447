#!/usr/bin/env node
// Entry of the `cohort` command. Checks the Node version before loading anything that needs a newer one.

import { MIN_NODE_MAJOR, nodeMajor } from '../entries/nodeSupport.js';
import { exitWhenFlushed } from './exitWhenFlushed.js';

if (nodeMajor(process.versions.node) < MIN_NODE_MAJOR) {
  console.error(
    `cohort needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${process.version}.\n` +
      `Run it through npm (npm start / npx cohort), which uses the Node ${MIN_NODE_MAJOR} that the project pins, or install Node ${MIN_NODE_MAJOR}+.`,
  );
  await exitWhenFlushed(1);
}

// node:sqlite is stable in use but still flagged experimental on Node 22: keep that one warning off users' screens.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/SQLite is an experimental feature/.test(text)) return;
  (emitWarning as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const { buildProgram } = await import('./program.js');
try {
  await buildProgram().parseAsync(process.argv);
  // Open handles (tfjs, sockets being closed) must not keep a finished command alive; what it printed must
  // still reach a slow reader (a pipe) whole.
  await exitWhenFlushed(Number(process.exitCode ?? 0));
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env.COHORT_DEBUG) console.error(e);
  await exitWhenFlushed(1);
}
