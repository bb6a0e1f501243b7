// Forward kernels: activation (see src/forward/ops/activation.ts).
