import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's cpu backend prints a banner ("Hi, looks like you are running TensorFlow.js in Node.js... install our
 * node backend") to stderr on its first tensor in Node. Cohort says which backend runs and why the faster ones are
 * not available (selectBackend's line), and a coordinator only builds a model once: the banner misleads. This
 * makes the cpu backend's first write with tfjs's warnings off (its PROD flag, for that one call only), so that
 * every later warning still shows.
 */
export function quietCpuBanner(): void {
  // Settle the engine's own backend first: initializing it later would replace a cpu instance made here.
  tf.backend();
  const cpu = tf.findBackend('cpu');
  if (cpu === null) return;
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    cpu.disposeData(cpu.write(new Float32Array(1), [1], 'float32'));
  } finally {
    env.set('PROD', prod);
  }
}
