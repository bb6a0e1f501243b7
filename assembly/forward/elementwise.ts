// Forward kernels: elementwise (see src/forward/ops/elementwise.ts).
