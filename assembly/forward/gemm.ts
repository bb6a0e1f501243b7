// Matrix multiply for the forward pass (dense layers, convolutions as im2col, recurrent cells,
// attention). Row-major f32.

/**
 * C[m x n] = A[m x k] . B[k x n] (+ C when accumulate != 0) (+ bias: biasMode 1 adds bias[j] to
 * column j, 2 adds bias[i] to row i). Leading dimensions are the row lengths: lda >= k, ldb >= n,
 * ldc >= n (so blocks of bigger matrices can be multiplied in place).
 */
export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, bias: usize, biasMode: i32, accumulate: i32): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum: f32 = accumulate != 0 ? load<f32>(c + ((<usize>i * ldc + j) << 2)) : 0;
      for (let p = 0; p < k; p++) sum += load<f32>(a + ((<usize>i * lda + p) << 2)) * load<f32>(b + ((<usize>p * ldb + j) << 2));
      if (biasMode == 1) sum += load<f32>(bias + (<usize>j << 2));
      else if (biasMode == 2) sum += load<f32>(bias + (<usize>i << 2));
      store<f32>(c + ((<usize>i * ldc + j) << 2), sum);
    }
  }
}
