// Forward kernels: conv (see src/forward/ops/conv.ts).
