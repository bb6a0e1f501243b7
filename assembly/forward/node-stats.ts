// Per-node statistics of a batch (src/forward/collect.ts).
