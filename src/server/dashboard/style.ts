/** The dashboard's own CSS (uPlot's stylesheet is inlined beside it, page.ts). Rows are fixed-height: the call table is virtualized by row index. */
export const CALL_ROW_PX = 24;

export const DASHBOARD_CSS = `
body { font: 13px system-ui, sans-serif; margin: 1.2em; color: #222; }
h1 { font-size: 1.25em; margin: 0 0 0.3em; } h2 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.ok { color: #176b2c; } .bad { color: #a11; } .muted { color: #888; }
table { border-collapse: collapse; } th, td { padding: 0.15em 0.7em; text-align: left; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; font-weight: 600; }
#charts { display: flex; flex-wrap: wrap; gap: 1em; }
#charts > div { border: 1px solid #e4e4e4; padding: 0.3em; }
.grid { display: grid; grid-template-columns: 20em 6.5em 4.5em 4.5em 11em 6.5em 4.5em 6.5em 8.5em 4em; align-items: center; }
.grid > span { padding: 0 0.4em; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
#callhead { background: #f4f4f4; font-weight: 600; border-bottom: 1px solid #ccc; }
#callhead > span { cursor: pointer; user-select: none; }
#viewport { height: 60vh; min-height: 12em; overflow-y: auto; border: 1px solid #e4e4e4; border-top: 0; }
#spacer { position: relative; }
.row { position: absolute; left: 0; right: 0; height: ${CALL_ROW_PX}px; border-bottom: 1px solid #eee; }
.row.ending { color: #888; }
/* The grid's display would otherwise override the hidden attribute: pooled rows out of view must not show. */
.row[hidden] { display: none; }
.meter { display: flex; align-items: center; gap: 0.4em; }
.meter > i { display: block; height: 8px; width: 6em; background: #eee; }
.meter > i > b { display: block; height: 8px; width: 0; background: #3a7; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
#tools { margin: 0.4em 0; display: flex; gap: 1em; align-items: center; }
`;
