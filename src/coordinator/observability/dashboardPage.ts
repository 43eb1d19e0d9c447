import { createHash } from 'node:crypto';
import { DASHBOARD_SCRIPT } from './dashboardScript.js';
import { DASHBOARD_STYLE } from './dashboardStyle.js';

export interface DashboardPage {
  readonly html: string;
  /** Allows exactly the inline script and stylesheet below, and requests to this origin; nothing else. */
  readonly contentSecurityPolicy: string;
}

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const BODY = `
<header>
  <span class="brand">Cohort</span>
  <h1 id="title">Cohort federation</h1>
  <span class="run" id="run"></span>
  <span class="pill" id="phase">connecting</span>
  <span class="spacer"></span>
  <span class="live" id="live">connecting…</span>
</header>
<main>
  <section class="cards">
    <div class="card"><div class="label">Round</div><div class="value" id="card-round">–</div><div class="sub" id="card-round-sub"></div></div>
    <div class="card"><div class="label">Federated loss</div><div class="value" id="card-loss">–</div><div class="sub" id="card-loss-sub"></div></div>
    <div class="card"><div class="label">Federated accuracy</div><div class="value" id="card-accuracy">–</div><div class="sub" id="card-accuracy-sub"></div></div>
    <div class="card"><div class="label">Clients connected</div><div class="value" id="card-clients">–</div><div class="sub" id="card-clients-sub"></div></div>
    <div class="card"><div class="label">Privacy budget spent</div><div class="value" id="card-privacy">–</div><div class="sub" id="card-privacy-sub"></div><div class="bar" id="privacy-bar" hidden><div></div></div></div>
  </section>
  <section class="grid2">
    <figure class="panel"><h2>Loss per round <small>federated evaluation, per client and aggregate</small></h2><svg class="chart" id="loss-chart" role="img" aria-label="loss per round"></svg><div class="legend" id="loss-legend"></div></figure>
    <figure class="panel"><h2>Accuracy per round <small>federated evaluation, per client and aggregate</small></h2><svg class="chart" id="accuracy-chart" role="img" aria-label="accuracy per round"></svg><div class="legend" id="accuracy-legend"></div></figure>
  </section>
  <section class="grid2 lower">
    <div class="panel">
      <h2>Clients <small>accuracy and loss from each one's last evaluation</small></h2>
      <div class="scroll"><table id="clients"><thead><tr><th>Client</th><th>Backend</th><th class="num" title="training and test rows">Train / test</th><th>Status</th><th class="num">Accuracy</th><th class="num">Loss</th></tr></thead><tbody></tbody></table></div>
    </div>
    <div class="panel">
      <h2>Fairness <small id="fairness-round"></small></h2>
      <table id="fairness-spread"><thead><tr><th>Across clients</th><th class="num">Accuracy</th><th class="num">Loss</th></tr></thead><tbody></tbody></table>
      <h3>Drift per client</h3>
      <div class="scroll"><table id="drift"><thead><tr><th>Client</th><th class="num">Accuracy</th><th class="num" title="change since the client's previous evaluated round">Δ prev</th><th class="num" title="change since the client's first evaluated round">Δ first</th><th class="num">Loss</th><th class="num" title="change since the client's previous evaluated round">Δ prev</th><th class="num" title="change since the client's first evaluated round">Δ first</th></tr></thead><tbody></tbody></table></div>
    </div>
  </section>
  <section class="panel">
    <h2>Round timeline <small id="timeline-count"></small><small class="key"><span class="swatch fit"></span>fit <span class="swatch eval"></span>evaluation</small></h2>
    <div class="scroll"><table id="timeline"><thead><tr><th class="num">Round</th><th>Started</th><th class="num">Duration</th><th>Fit and evaluation</th><th>Participants</th><th>Dropped</th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<footer>Read-only view. Updates are pushed by the coordinator as rounds complete. JSON: /api/rounds, /api/clients, /api/fairness; Prometheus: /metrics</footer>`;

/** The dashboard: one self-contained HTML page (inline CSS and script, no external requests but its own API). */
export function dashboardPage(): DashboardPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Cohort dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body data-phase="connecting" data-rounds="0">${BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${hashOf(DASHBOARD_SCRIPT)}`,
    `style-src ${hashOf(DASHBOARD_STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
