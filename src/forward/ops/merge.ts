import type { PrepareOp } from "../types.js";

/** Op runners of this family, by GraphOp.op (src/graph/ops.ts). */
export const OPS: Record<string, PrepareOp> = {};
