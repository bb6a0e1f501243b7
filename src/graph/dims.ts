/**
 * Sizes and shapes as the graph walk can use them: a file may declare anything, so every stage
 * takes a dimension only when it is a non-negative safe integer, and a shape only when it has a
 * bounded number of such dims (or nulls, for symbolic ones).
 */
import type { Dim } from "./types.js";

/** Ranks beyond this are not shapes of real data (limits.maxRank is 8 by default). */
export const MAX_RANK = 64;

/** A size the walk can use: a non-negative safe integer. */
export const known = (d: Dim | undefined): d is number => Number.isSafeInteger(d) && (d as number) >= 0;

/** A shape the walk can hold: at most MAX_RANK dims, each null or a size (an axis out of range makes a hole, which fails here). */
export function validShape(shape: readonly Dim[] | undefined): shape is Dim[] {
  if (!Array.isArray(shape) || shape.length > MAX_RANK) return false;
  for (let i = 0; i < shape.length; i++) if (!(shape[i] === null || known(shape[i]))) return false;
  return true;
}

/** Two shapes (or name lists) equal element by element. */
export function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
