/**
 * Matching layers across reports: by name when every report has an item of that name, else by
 * position when every report has an unmatched item at the same position with the same size.
 */
export interface Matchable {
  name: string;
  /** Shape or size as text: position matching needs equal sizes. */
  size: string;
}

export interface Match {
  /** Index of the item in each report, in report order. */
  indices: number[];
  matchedBy: "name" | "position";
}

export interface MatchResult {
  matches: Match[];
  /** Items of each report that matched nothing: [report index, item index]. */
  unmatched: [number, number][];
}

export function matchItems(lists: Matchable[][]): MatchResult {
  const used = lists.map((l) => new Array<boolean>(l.length).fill(false));
  const byName = lists.map((l) => {
    const map = new Map<string, number[]>();
    l.forEach((item, i) => map.set(item.name, [...(map.get(item.name) ?? []), i]));
    return map;
  });
  const matches: Match[] = [];
  lists[0].forEach((item, i) => {
    const named = byName.map((map, m) => map.get(item.name)?.find((j) => !used[m][j]));
    if (named.every((j) => j !== undefined)) {
      named.forEach((j, m) => (used[m][j!] = true));
      matches.push({ indices: named as number[], matchedBy: "name" });
      return;
    }
    if (lists.every((l, m) => i < l.length && !used[m][i] && l[i].size === item.size && !(m > 0 && byName[0].has(l[i].name) && l[i].name !== item.name))) {
      lists.forEach((_, m) => (used[m][i] = true));
      matches.push({ indices: lists.map(() => i), matchedBy: "position" });
    }
  });
  const unmatched: [number, number][] = [];
  used.forEach((flags, m) => flags.forEach((u, j) => { if (!u) unmatched.push([m, j]); }));
  return { matches, unmatched };
}
