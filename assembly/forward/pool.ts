// Forward kernels: pool (see src/forward/ops/pool.ts).
