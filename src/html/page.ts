import { escapeXml } from "../plot/svg.js";
import { wireTables } from "./tables-script.js";

/**
 * The frame of a self-contained HTML page: inline style and script only (no network, no
 * external fonts or scripts), so the file opens the same from a disk, a mail or a static host.
 */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cntscope">
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>(${wireTables.toString()})(document);</script>
</body>
</html>
`;
}

/** The page's style, also used by the browser app. */
export const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1em}
.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}.summary dt{color:#555}
table.data{border-collapse:collapse;font-size:12.5px;margin:.5em 0}table.data th,table.data td{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}
table.data th{cursor:pointer;background:#f6f6f6;position:sticky;top:0;user-select:none}table.data th[aria-sort=ascending]::after{content:" \\25B2"}table.data th[aria-sort=descending]::after{content:" \\25BC"}
table.data td.text,table.data th.text{text-align:left}
input.filter{margin:.3em 0;padding:3px 6px;width:260px}
.plots{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}.plots svg{max-width:100%;height:auto;border:1px solid #eee}
details{margin:.4em 0}summary{cursor:pointer}
.notes li{margin:.2em 0}code,pre{background:#f6f6f6;padding:1px 4px;border-radius:3px}pre{padding:8px;overflow:auto}
`;
