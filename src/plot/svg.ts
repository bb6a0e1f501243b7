/**
 * The few SVG pieces every plot shares, as strings: no DOM, so plots are made the same way in
 * Node, browsers and edge runtimes, and the same report gives the same bytes everywhere.
 */

/** Text and attribute values with XML's five special characters escaped (names come from files). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** A coordinate with two decimals at most: pixels finer than that change nothing on screen. */
export function px(value: number): string {
  const r = Math.round(value * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

export type Attributes = Record<string, string | number | undefined>;

/** One element; `children` is already markup (escape text with escapeXml). Numbers are coordinates (two decimals); data attributes go as strings, whole. */
export function element(name: string, attributes: Attributes, children?: string): string {
  const attrs = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? px(v) : escapeXml(v!)}"`)
    .join("");
  return children === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${children}</${name}>`;
}

export function text(x: number, y: number, content: string, attributes: Attributes = {}): string {
  return element("text", { x, y, ...attributes }, escapeXml(content));
}

/** FNV-1a over the text: ids that follow from the content, so the same plot is the same bytes. */
function contentId(content: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) h = Math.imul(h ^ content.charCodeAt(i), 0x01000193);
  return `cnt${(h >>> 0).toString(36)}`;
}

/**
 * A standalone SVG document: `role="img"` with a `<title>` and a `<desc>` that screen readers
 * read and browsers show on hover. Its ids follow from its content, so several plots can sit in
 * one HTML page.
 */
export function svgDocument(width: number, height: number, title: string, description: string, body: string): string {
  const id = contentId(title + description + body);
  return (
    element(
      "svg",
      {
        xmlns: "http://www.w3.org/2000/svg",
        width,
        height,
        viewBox: `0 0 ${px(width)} ${px(height)}`,
        role: "img",
        "aria-labelledby": `${id}-title ${id}-desc`,
        "font-family": "system-ui, -apple-system, 'Segoe UI', sans-serif",
        "font-size": 11,
      },
      element("title", { id: `${id}-title` }, escapeXml(title)) +
        element("desc", { id: `${id}-desc` }, escapeXml(description)) +
        element("rect", { width, height, fill: "#ffffff" }) +
        body,
    ) + "\n"
  );
}
