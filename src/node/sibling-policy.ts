/**
 * Where a model's sibling files may be opened from. Its own file (no Node types in it), so the
 * public declarations of cntscope/node stay free of node:fs for consumers without @types/node.
 */
export interface SiblingPolicy {
  /** Open sibling files wherever their links lead (the user vouches for the folder). Default false. */
  followLinks?: boolean;
}
