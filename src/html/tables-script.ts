/**
 * Sorting by a click on a column head (numbers by their whole value in data-sort, "-" last) and
 * filtering by any cell's text, for every `table.data` under `root`. The static page embeds this
 * function's own text (no library, no server); the browser app calls it on what it renders. It
 * must stay self-contained: it refers to nothing outside its body.
 */
export function wireTables(root: ParentNode): void {
  for (const table of Array.from(root.querySelectorAll<HTMLTableElement>("table.data"))) {
    const body = table.tBodies[0];
    const heads = Array.from(table.querySelectorAll("th"));
    heads.forEach((th, col) =>
      th.addEventListener("click", () => {
        const dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        const key = (row: HTMLTableRowElement): number | string | null => {
          const cell = row.cells[col];
          const v = cell.dataset.sort ?? cell.textContent ?? "";
          const n = Number(v);
          return v === "" || v === "-" ? null : Number.isNaN(n) ? v : n;
        };
        const rows = Array.from(body.rows).sort((a, b) => {
          const x = key(a), y = key(b);
          if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
          return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
        });
        body.append(...rows);
      }),
    );
  }
  for (const input of Array.from(root.querySelectorAll<HTMLInputElement>("input.filter"))) {
    const table = (root as Document | Element).querySelector<HTMLTableElement>(`#${input.dataset.table}`);
    if (!table) continue;
    input.addEventListener("input", () => {
      const q = input.value.toLowerCase();
      for (const row of Array.from(table.tBodies[0].rows)) row.hidden = q !== "" && !(row.textContent ?? "").toLowerCase().includes(q);
    });
  }
}
