// Forward kernels: norm (see src/forward/ops/norm.ts).
