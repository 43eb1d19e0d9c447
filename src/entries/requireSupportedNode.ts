import { unsupportedNodeReason } from './nodeSupport.js';

// Imported first by every public entry. ES modules run in import order, so on an older Node this throws before any
// module that would fail there (node-seal, for one) is evaluated, and the user reads one sentence instead.
const reason = unsupportedNodeReason(process.versions.node);
if (reason !== undefined) throw new Error(reason);
