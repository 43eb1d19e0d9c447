import { DASHBOARD_CHART_SCRIPT } from './dashboardChartScript.js';

/**
 * The dashboard's browser code, inlined into the page (no bundler, no CDN: coordinators run offline).
 * Everything from the server is placed with textContent or createElement, never parsed as HTML: client
 * names and failure details are untrusted input. Client names key a Map, not an object (no __proto__).
 * Written without template literals so it can live in this template string unescaped.
 */
export const DASHBOARD_SCRIPT = String.raw`
(() => {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#ff9da7', '#9c755f', '#8c8c8c'];
  const AGGREGATE = '#1d2430', CENTRAL = '#7c3aed', TRAIN = '#98a2b3';
  const colors = new Map();
  let state = null, done = false, pending = false;

  const $ = (id) => document.getElementById(id);
  function build(node, props, children) {
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'class') node.setAttribute('class', value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children || []) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const h = (tag, props, children) => build(document.createElement(tag), props, children);
  const s = (tag, props, children) => build(document.createElementNS(SVG, tag), props, children);
  const colorOf = (name) => {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name);
  };
  const has = (v) => typeof v === 'number' && Number.isFinite(v);
  const num = (v) => !has(v) ? '\u2013' : (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  const num3 = (v) => !has(v) ? '\u2013' : (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
  const pct = (v) => has(v) ? (100 * v).toFixed(1) + '%' : '\u2013';
  const pts = (v) => has(v) ? (100 * v).toFixed(1) + ' pts' : '\u2013';
  const dur = (ms) => !has(ms) ? '\u2013' : ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s';
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');

  /** A signed change, coloured by whether it is an improvement for a metric that is better 'higher' or 'lower'. */
  function change(v, better, format) {
    if (!has(v)) return h('span', { class: 'muted', text: '\u2013' });
    const good = better === 'higher' ? v > 0 : v < 0;
    const text = (v > 0 ? '+' : v < 0 ? '\u2212' : '\u00b1') + format(Math.abs(v));
    return h('span', { class: v === 0 ? 'muted' : good ? 'up' : 'down', text: text });
  }

${DASHBOARD_CHART_SCRIPT}
  function renderCharts() {
    const rounds = state.rounds.slice().sort((a, b) => a.round - b.round);
    const last = rounds[rounds.length - 1];
    const xMax = Math.max(state.status.rounds || 0, last ? last.round : 1);
    drawChart($('loss-chart'), $('loss-legend'), {
      xMax: xMax, lo: (ys) => Math.min(0, ...ys), hi: (ys) => ys.length ? Math.max(...ys) : 1, tick: (v) => num(v),
      series: seriesOf(rounds, (r) => r.loss, (c) => c.loss, [['train', 'training (fit)', TRAIN, (r) => r.trainMetrics.loss], ['central', 'central evaluation', CENTRAL, (r) => r.centralLoss]]),
    });
    drawChart($('accuracy-chart'), $('accuracy-legend'), {
      xMax: xMax, lo: (ys) => ys.length ? Math.max(0, Math.min(...ys) - 0.02) : 0, hi: () => 1, tick: (v, exact) => exact ? pct(v) : Math.round(100 * v) + '%',
      series: seriesOf(rounds, (r) => r.accuracy, (c) => c.accuracy, [['train', 'training (fit)', TRAIN, (r) => r.trainMetrics.accuracy], ['central', 'central evaluation', CENTRAL, (r) => r.centralAccuracy]]),
    });
  }

  function card(id, value, sub, none) {
    const v = $(id);
    v.textContent = value;
    v.classList.toggle('none', !!none);
    const subNode = $(id + '-sub');
    subNode.replaceChildren(...(Array.isArray(sub) ? sub : [sub || '']));
  }

  function renderHeader() {
    const st = state.status;
    $('title').textContent = state.title;
    $('run').textContent = 'run ' + state.runId;
    const phase = $('phase');
    phase.className = 'pill ' + st.phase;
    phase.textContent = st.phase === 'waiting' ? 'waiting for clients' : st.phase === 'completed' ? 'completed' : 'training';
    document.body.dataset.phase = st.phase;
    document.body.dataset.rounds = String(state.rounds.length);
  }

  function renderCards() {
    const st = state.status, rounds = state.rounds, last = rounds[rounds.length - 1], prev = rounds[rounds.length - 2];
    const inProgress = st.phase === 'training' && st.selected.length > 0;
    card('card-round', (last ? last.round : 0) + ' / ' + (st.rounds || '?'),
      st.phase === 'completed' ? 'run completed' : inProgress ? 'round ' + st.round + ' running' + (st.attempt > 1 ? ' (attempt ' + st.attempt + ')' : '') + ', ' + plural(st.selected.length, 'client') : st.phase === 'waiting' ? 'waiting for clients' : 'between rounds');
    const delta = (f, better, format) => last && prev ? [change(f(last) - f(prev), better, format), ' since round ' + prev.round] : '';
    card('card-loss', num(last && last.loss), delta((r) => r.loss, 'lower', num));
    card('card-accuracy', pct(last && last.accuracy), delta((r) => r.accuracy, 'higher', pts));
    const connected = state.clients.filter((c) => c.status === 'connected').length;
    card('card-clients', String(connected), state.clients.length > connected ? (state.clients.length - connected) + ' left' : plural(state.clients.length, 'known client'));
    const p = state.privacy;
    if (!p.configured) card('card-privacy', 'not configured', 'no privacy accountant in this run', true);
    else card('card-privacy', '\u03b5 = ' + p.epsilon.toFixed(2), '\u03b4 = ' + p.delta.toExponential(0) + (has(p.targetEpsilon) ? ', budget \u03b5 ' + p.targetEpsilon : ''));
    const bar = $('privacy-bar');
    bar.hidden = !(p.configured && has(p.targetEpsilon));
    if (!bar.hidden) bar.firstElementChild.style.width = Math.min(100, (100 * p.epsilon) / p.targetEpsilon).toFixed(1) + '%';
  }

  function renderClients() {
    const body = $('clients').tBodies[0];
    body.replaceChildren();
    if (state.clients.length === 0) body.append(h('tr', {}, [h('td', { colspan: 6, class: 'empty', text: 'no client has joined yet' })]));
    for (const c of state.clients) {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = colorOf(c.name);
      const status = c.status === 'connected'
        ? h('td', { class: 'nowrap' }, [h('span', { class: 'dot connected' }), 'connected'])
        : h('td', { class: 'nowrap', title: c.leftReason }, [h('span', { class: 'dot left' }), 'left ', h('span', { class: 'muted', text: c.leftReason ? '(' + c.leftReason + ')' : '' })]);
      body.append(h('tr', { 'data-client': c.name }, [
        h('td', { class: 'name', title: c.name }, [sw, c.name]),
        h('td', { text: c.backend }),
        h('td', { class: 'num', text: c.trainRows + ' / ' + c.testRows }),
        status,
        h('td', { class: 'num', text: pct(c.lastAccuracy) }),
        h('td', { class: 'num', text: num(c.lastLoss) }),
      ]));
    }
  }

  function renderFairness() {
    const latest = state.fairness.latest;
    $('fairness-round').textContent = latest ? 'round ' + latest.round + ', ' + plural(latest.drift.length, 'client') + ' evaluated' : '';
    const spread = $('fairness-spread').tBodies[0];
    spread.replaceChildren();
    const acc = latest && latest.accuracy, loss = latest && latest.loss;
    if (!acc && !loss) spread.append(h('tr', {}, [h('td', { colspan: 3, class: 'empty', text: 'no federated evaluation yet' })]));
    else {
      const cell = (m, pick, format) => {
        if (!m) return h('td', { class: 'num muted', text: '\u2013' });
        const v = pick(m);
        return typeof v === 'object' ? h('td', { class: 'num' }, [format(v.value), h('span', { class: 'who', title: v.client, text: v.client })]) : h('td', { class: 'num', text: format(v) });
      };
      const rows = [
        ['worst', 'Worst client', (m) => m.worst, pct, num],
        ['best', 'Best client', (m) => m.best, pct, num],
        ['mean', 'Mean (unweighted)', (m) => m.mean, pct, num],
        ['gap', 'Mean \u2212 worst', (m) => m.gapMeanToWorst, pts, num],
        ['std', 'Standard deviation', (m) => m.std, pts, num],
      ];
      for (const [key, label, pick, accFormat, lossFormat] of rows) spread.append(h('tr', { 'data-stat': key }, [h('td', { text: label }), cell(acc, pick, accFormat), cell(loss, pick, lossFormat)]));
    }
    const drift = $('drift').tBodies[0];
    drift.replaceChildren();
    for (const d of latest ? latest.drift : []) {
      const a = d.accuracy || {}, l = d.loss || {};
      const sw = h('span', { class: 'swatch' });
      sw.style.background = colorOf(d.client);
      drift.append(h('tr', { 'data-client': d.client }, [
        h('td', { class: 'name', title: d.client }, [sw, d.client]),
        h('td', { class: 'num', text: pct(a.value) }), h('td', { class: 'num' }, [change(a.sincePrevious, 'higher', pts)]), h('td', { class: 'num' }, [change(a.sinceFirst, 'higher', pts)]),
        h('td', { class: 'num', text: num(l.value) }), h('td', { class: 'num' }, [change(l.sincePrevious, 'lower', num3)]), h('td', { class: 'num' }, [change(l.sinceFirst, 'lower', num3)]),
      ]));
    }
    if (!latest || latest.drift.length === 0) drift.append(h('tr', {}, [h('td', { colspan: 7, class: 'empty', text: 'no client evaluated yet' })]));
  }

  function renderTimeline() {
    const body = $('timeline').tBodies[0];
    body.replaceChildren();
    const rounds = state.rounds.slice().sort((a, b) => a.round - b.round);
    $('timeline-count').textContent = rounds.length ? plural(rounds.length, 'round') + ' completed' : '';
    if (rounds.length === 0) {
      body.append(h('tr', {}, [h('td', { colspan: 6, class: 'empty', text: 'no round completed yet' })]));
      return;
    }
    const t0 = Date.parse(rounds[0].startedAt), t1 = Date.parse(rounds[rounds.length - 1].completedAt), span = Math.max(1, t1 - t0);
    const shown = rounds.slice(-40).reverse();
    for (const r of shown) {
      const start = Date.parse(r.startedAt), end = Date.parse(r.completedAt);
      const track = h('div', { class: 'track', title: 'fit ' + dur(r.fitDurationMs) + (has(r.evaluateDurationMs) ? ', evaluation ' + dur(r.evaluateDurationMs) : '') });
      const seg = (cls, from, ms) => {
        const el = h('div', { class: 'seg ' + cls });
        el.style.left = ((100 * (from - t0)) / span).toFixed(2) + '%';
        el.style.width = 'max(2px, ' + ((100 * ms) / span).toFixed(2) + '%)';
        return el;
      };
      track.append(seg('fit', start, r.fitDurationMs));
      if (has(r.evaluateDurationMs)) track.append(seg('eval', end - r.evaluateDurationMs, r.evaluateDurationMs));
      const names = r.participants.slice(0, 6).join(', ') + (r.participants.length > 6 ? ' +' + (r.participants.length - 6) + ' more' : '');
      const dropped = r.dropped.length === 0 ? [h('span', { class: 'muted', text: 'none' })] : r.dropped.map((d) => h('span', { class: 'drop', title: d.detail, text: d.client + ' (' + d.phase + '): ' + d.reason }));
      const roundCell = h('td', { class: 'num' }, [String(r.round)]);
      if (r.attempts > 1) roundCell.append(h('span', { class: 'tag', title: r.failedAttempts.join('\n'), text: plural(r.attempts, 'attempt') }));
      body.append(h('tr', { 'data-round': r.round }, [
        roundCell,
        h('td', { text: clock(r.startedAt) }),
        h('td', { class: 'num', text: dur(r.durationMs) }),
        h('td', {}, [track]),
        h('td', {}, [r.participants.length + '/' + r.selected + ' ', h('span', { class: 'muted', title: r.participants.join(', '), text: names })]),
        h('td', {}, dropped),
      ]));
    }
    if (rounds.length > shown.length) body.append(h('tr', {}, [h('td', { colspan: 6, class: 'empty', text: (rounds.length - shown.length) + ' earlier rounds in /api/rounds' })]));
  }

  function render() {
    pending = false;
    if (!state) return;
    renderHeader();
    renderCards();
    renderCharts();
    renderClients();
    renderFairness();
    renderTimeline();
  }
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(render);
  };

  function live(cls, text) {
    const node = $('live');
    node.className = 'live ' + cls;
    node.textContent = text;
  }

  function connect() {
    const source = new EventSource('/api/events');
    const on = (name, apply) => source.addEventListener(name, (e) => {
      const data = JSON.parse(e.data);
      if (name !== 'snapshot' && !state) return;
      apply(data);
      schedule();
    });
    source.onopen = () => live('on', 'live');
    source.onerror = () => {
      if (done) return;
      live('off', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting\u2026');
      if (source.readyState === EventSource.CLOSED && !state) fetch('/api/snapshot').then((r) => r.json()).then((d) => { state = d; schedule(); }).catch(() => undefined);
    };
    on('snapshot', (d) => { state = d; });
    on('status', (d) => { state.status = d; });
    on('clients', (d) => { state.clients = d; });
    on('round', (d) => {
      state.rounds = state.rounds.filter((r) => r.round !== d.round.round).concat([d.round]);
      state.fairness = { latest: d.fairness, rounds: state.fairness.rounds.filter((f) => f.round !== d.fairness.round).concat([d.fairness]) };
      state.privacy = d.privacy;
    });
    on('complete', (d) => {
      state.status = d;
      done = true;
      source.close();
      live('', 'run ended');
    });
  }
  connect();
})();
`;
