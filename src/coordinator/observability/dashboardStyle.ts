/** The dashboard's stylesheet: light, dense, legible; no external fonts or assets. */
export const DASHBOARD_STYLE = String.raw`
:root {
  --bg: #f4f5f7; --panel: #fff; --ink: #1d2430; --muted: #667085; --line: #e3e6eb; --grid: #eef0f3;
  --good: #1a7f37; --bad: #c4320a; --accent: #2f5aa8; --fit: #5b8def; --eval: #a4bff7;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { display: flex; align-items: center; gap: 14px; padding: 12px 24px; background: #1d2430; color: #fff; flex-wrap: wrap; }
header .brand { font-weight: 700; letter-spacing: .08em; text-transform: uppercase; font-size: 12px; color: #9fb3d9; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .run { color: #9aa4b2; font-size: 12px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
header .spacer { flex: 1; }
.pill { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e8edf6; color: var(--accent); }
header .pill { background: #2f3b4f; color: #dbe5f6; }
header .pill.training { background: #2f5aa8; color: #fff; }
header .pill.completed { background: #1a7f37; color: #fff; }
.live { font-size: 12px; color: #cbd5e1; }
.live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #94a3b8; vertical-align: 1px; }
.live.on::before { background: #34d399; }
.live.off::before { background: #f59e0b; }
main { padding: 18px 24px 8px; display: grid; gap: 16px; max-width: 1440px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 12px; min-height: 1.2em; }
.card .value.none { font-size: 16px; color: var(--muted); font-weight: 500; padding-top: 5px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.grid2.lower { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); align-items: start; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 14px; margin: 0; min-width: 0; }
.panel h2 { margin: 0 0 8px; font-size: 14px; font-weight: 650; }
.panel h2 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
.panel h3 { margin: 14px 0 6px; font-size: 13px; font-weight: 600; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: var(--muted); font-family: inherit; }
svg.chart .grid line { stroke: var(--grid); }
svg.chart .axis line { stroke: #c9ced6; }
svg.chart .empty { font-size: 13px; fill: #98a2b3; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; max-width: 22ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.legend i { display: inline-block; width: 16px; height: 3px; border-radius: 2px; flex: none; }
.legend i.dashed { background: repeating-linear-gradient(90deg, currentColor 0 4px, transparent 4px 7px) !important; height: 2px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 8px 6px 0; white-space: nowrap; }
td { border-bottom: 1px solid var(--grid); padding: 5px 10px 5px 0; vertical-align: top; }
td:last-child, th:last-child { padding-right: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td .who { color: var(--muted); margin-left: 6px; display: inline-block; max-width: 16ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.scroll { overflow-x: auto; }
td.name { max-width: 17ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 550; }
td.empty { color: #98a2b3; text-align: center; padding: 14px; }
.dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; vertical-align: 1px; }
.dot.connected { background: #22c55e; }
.dot.left { background: #cbd5e1; }
.muted { color: var(--muted); }
.up { color: var(--good); }
.down { color: var(--bad); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.swatch.fit { background: var(--fit); }
.swatch.eval { background: var(--eval); }
.panel h2 small.key { float: right; }
.track { position: relative; height: 14px; background: var(--grid); border-radius: 3px; min-width: 160px; }
.track .seg { position: absolute; top: 0; bottom: 0; border-radius: 3px; }
.track .fit { background: var(--fit); }
.track .eval { background: var(--eval); }
.drop { color: var(--bad); }
.drop + .drop::before { content: "; "; color: var(--muted); }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 4px; background: #fff4e5; color: #9a4b00; margin-left: 4px; }
.bar { height: 6px; background: var(--grid); border-radius: 3px; margin-top: 6px; overflow: hidden; }
.bar > div { height: 100%; background: var(--accent); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 8px 24px 18px; }
@media (max-width: 1000px) { .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } .grid2, .grid2.lower { grid-template-columns: minmax(0, 1fr); } }
`;
