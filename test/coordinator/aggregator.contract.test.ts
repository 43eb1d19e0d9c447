import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { aggregatorContract } from './aggregatorContract.js';

// Every Aggregator implementation registers here; wrappers (clip, DP noise, secure sums) join as they land.
aggregatorContract('StreamingMean (default slots)', () => new StreamingMean());
aggregatorContract('StreamingMean (one slot)', () => new StreamingMean({ slots: 1 }));
aggregatorContract('StreamingMean (files, summed at close)', () => new StreamingMean({ staging: 'file', sumAt: 'close' }));
