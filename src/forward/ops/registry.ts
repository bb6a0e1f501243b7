/**
 * Every op the forward pass runs, by GraphOp.op. One module per family of kernels; an op that is
 * in none of them stops the data metrics with a note naming it.
 */
import type { PrepareOp } from "../types.js";
import { OPS as activation } from "./activation.js";
import { OPS as attention } from "./attention.js";
import { OPS as conv } from "./conv.js";
import { OPS as dense } from "./dense.js";
import { OPS as merge } from "./merge.js";
import { OPS as norm } from "./norm.js";
import { OPS as pool } from "./pool.js";
import { OPS as recurrent } from "./recurrent.js";
import { OPS as shape } from "./shape.js";

const RUNNERS: Record<string, PrepareOp> = { ...activation, ...attention, ...conv, ...dense, ...merge, ...norm, ...pool, ...recurrent, ...shape };

/** Ops whose runners take host-int operands (ptr -1: shape arithmetic) as they are; every other runner gets them in linear memory. */
const TAKES_HOST_INTS = new Set([...Object.keys(merge), ...Object.keys(shape)]);

export function takesHostInts(op: string): boolean {
  return TAKES_HOST_INTS.has(op);
}

export function runnerOf(op: string): PrepareOp | undefined {
  return Object.hasOwn(RUNNERS, op) ? RUNNERS[op] : undefined;
}
