// Which Node.js runs Cohort. node-seal 7 does not load on Node 20 and the run store needs node:sqlite (Node 22),
// so an older Node is refused with a sentence that says what to do, not with an error from deep in a dependency.

export const MIN_NODE_MAJOR = 22;

/** The major version of a Node version string such as `20.20.2` or `v22.1.0`. */
export function nodeMajor(version: string): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

/** Why this Node cannot run the cohort-fl library, or undefined when it can. */
export function unsupportedNodeReason(version: string): string | undefined {
  if (nodeMajor(version) >= MIN_NODE_MAJOR) return undefined;
  return `cohort-fl needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${version.replace(/^v/, '')}: install Node ${MIN_NODE_MAJOR} or \`npm install -D node@${MIN_NODE_MAJOR}\``;
}
