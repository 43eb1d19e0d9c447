// Simulated Byzantine clients for robust-aggregation experiments: the public surface of src/client/byzantine.
export { ByzantineTrainer } from './byzantineTrainer.js';
export { byzantineAttackSchema, maliciousDelta, type ByzantineAttack } from './maliciousDelta.js';
export { byzantineSpecSchema, byzantineClients, type ByzantineSpec } from './byzantineSpec.js';
