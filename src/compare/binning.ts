/** numpy.histogram's bin rule on given edges: bin i holds edges[i] <= x < edges[i+1], the last bin also x == the last edge; values outside or not finite are left out. */
export function binValues(values: ArrayLike<number>, edges: ArrayLike<number>): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const lo = edges[0], hi = edges[bins];
  for (let k = 0; k < values.length; k++) {
    const x = values[k];
    if (!(x >= lo && x <= hi)) continue;
    if (x === hi) {
      counts[bins - 1]++;
      continue;
    }
    let a = 0, b = bins; // edges[a] <= x < edges[b]
    while (b - a > 1) {
      const mid = (a + b) >> 1;
      if (edges[mid] <= x) a = mid;
      else b = mid;
    }
    counts[a]++;
  }
  return counts;
}
