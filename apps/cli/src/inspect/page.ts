import { EXPLORER_JS } from './client-explorer.js';
import { OVERVIEW_JS } from './client-overview.js';
import { escapeHtml, jsonForScript } from './escape.js';
import type { ReportData } from './report-data.js';

const CSS = `
:root { --meta: #2f6fdb; --neg: #e07b28; --sep: #ccc; --fg: #1d1f23; --muted: #667; --bg: #fff; --line: #e3e5ea; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 14px 24px; border-bottom: 1px solid var(--line); background: #f7f8fa; }
header h1 { font-size: 18px; margin: 0 0 4px; }
nav a { margin-right: 14px; color: var(--meta); text-decoration: none; }
main { padding: 8px 24px 40px; }
section { margin: 18px 0 28px; }
h2 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: var(--muted); }
.grid { display: flex; flex-wrap: wrap; gap: 28px; }
.flow { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.box { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 110px; }
.box b { display: block; font-size: 18px; }
.explorer { display: grid; grid-template-columns: 260px 1fr; gap: 18px; }
.seqlist { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.seqlist div { padding: 4px 8px; cursor: pointer; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.seqlist div.sel { background: #e8effc; }
.strip { width: 100%; height: 34px; display: block; border: 1px solid var(--line); }
.strip rect { cursor: pointer; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
tr.seg { cursor: pointer; }
tr.seg.sel { background: #fff3e6; }
tr.seg td:first-child { font-weight: 600; }
.t-meta { color: var(--meta); } .t-negative { color: var(--neg); }
.cols { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; }
.scroll.short { max-height: 170px; }
pre.piece { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 520px; margin: 0; overflow: auto; background: #f7f8fa; border: 1px solid var(--line); padding: 10px; font-size: 12.5px; }
.groups li { margin-bottom: 4px; }
input[type=search] { width: 100%; padding: 5px 8px; margin-bottom: 6px; }
.kbd { font-family: ui-monospace, monospace; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
`;

/**
 * The whole report: inline CSS, the data as one JSON block, and the script that builds the page
 * from it with DOM calls (text always as textContent). The CSP allows no fetch, image or frame
 * from anywhere: the page cannot touch the network even if text were to slip through as markup.
 */
export function renderHtml(data: ReportData): string {
  const title = `NExtLong run ${data.run.run_id}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><div id="status" class="muted"></div>
<nav><a href="#overview">Overview</a><a href="#hardness">Hardness</a><a href="#explorer">Sequence explorer</a></nav></header>
<main>
<section id="overview"><h2>Run overview</h2></section>
<section id="hardness"><h2>Hardness</h2></section>
<section id="explorer"><h2>Sequence explorer</h2></section>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>
"use strict";
(function () {
${OVERVIEW_JS}
${EXPLORER_JS}
})();
</script>
</body>
</html>
`;
}
