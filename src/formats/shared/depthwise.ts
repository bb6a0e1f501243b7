/**
 * A depthwise conv kernel as Keras and TF store it, [kh, kw, c_in, multiplier], is a grouped
 * conv kernel (groups = c_in) read through another shape: the TF.js layers and graph readers
 * and the .npz reader all view it so.
 */

/** [kh, kw, c_in, mult] → the grouped-conv view [kh, kw, 1, c_in·mult] of the same bytes. */
export function depthwiseAsGrouped(shape: number[]): number[] {
  return [shape[0], shape[1], 1, shape[2] * shape[3]];
}
