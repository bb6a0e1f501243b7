// Forward kernels: recurrent (see src/forward/ops/recurrent.ts).
