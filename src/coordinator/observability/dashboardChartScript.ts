/**
 * The dashboard's chart drawing, in the browser: per-round series as SVG paths and dots, built by hand
 * (no chart library, no CDN). Spliced into DASHBOARD_SCRIPT, whose helpers `h`, `s` and `colorOf` it uses.
 * Written without template literals so it can live in this template string unescaped.
 */
export const DASHBOARD_CHART_SCRIPT = String.raw`
  function niceStep(span, count) {
    const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
    return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
  }

  /** Draws series of per-round points into an SVG by hand: axes, grid, one path and dots per series. */
  function drawChart(svg, legend, spec) {
    const W = 640, H = 250, L = 54, R = 14, T = 12, B = 30;
    svg.replaceChildren();
    legend.replaceChildren();
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const series = spec.series.filter((x) => x.points.length > 0);
    const ys = series.flatMap((x) => x.points.map((p) => p.y));
    const xMax = Math.max(spec.xMax, 2);
    let lo = spec.lo(ys), hi = spec.hi(ys);
    if (!(hi > lo)) hi = lo + 1;
    const step = niceStep(hi - lo, 4);
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
    const x = (r) => L + ((r - 1) / (xMax - 1)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    const grid = s('g', { class: 'grid' }), axis = s('g', { class: 'axis' });
    for (let v = lo; v <= hi + step / 2; v += step) {
      grid.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      axis.append(s('text', { x: L - 8, y: y(v) + 4, 'text-anchor': 'end', text: spec.tick(v) }));
    }
    const xStep = Math.max(1, Math.ceil((xMax - 1) / 10));
    for (let r = 1; r <= xMax; r += xStep) axis.append(s('text', { x: x(r), y: H - B + 16, 'text-anchor': 'middle', text: String(r) }));
    axis.append(s('text', { x: W - R, y: H - 2, 'text-anchor': 'end', text: 'round' }));
    axis.append(s('line', { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    svg.append(grid, axis);
    if (series.length === 0) svg.append(s('text', { class: 'empty', x: (L + W - R) / 2, y: H / 2, 'text-anchor': 'middle', text: 'waiting for the first round' }));
    for (const line of series) {
      const g = s('g', { 'data-series': line.key, 'data-label': line.label });
      const d = line.points.map((p, i) => (i === 0 ? 'M' : 'L') + x(p.x).toFixed(1) + ' ' + y(p.y).toFixed(1)).join(' ');
      g.append(s('path', { d: d, fill: 'none', stroke: line.color, 'stroke-width': line.width, 'stroke-dasharray': line.dashed ? '5 4' : null, 'stroke-linejoin': 'round', opacity: line.key === 'aggregate' ? 1 : 0.85 }));
      for (const p of line.points) {
        g.append(s('circle', { cx: x(p.x).toFixed(1), cy: y(p.y).toFixed(1), r: line.key === 'aggregate' ? 3.5 : 2.5, fill: line.key === 'aggregate' ? line.color : '#fff', stroke: line.color, 'stroke-width': 1.5 }, [
          s('title', { text: line.label + ', round ' + p.x + ': ' + spec.tick(p.y, true) }),
        ]));
      }
      svg.append(g);
      const swatch = h('i', { class: line.dashed ? 'dashed' : '' });
      swatch.style.background = line.color;
      swatch.style.color = line.color;
      legend.append(h('span', { title: line.label }, [swatch, line.label]));
    }
    svg.dataset.points = String(series.find((x) => x.key === 'aggregate')?.points.length ?? 0);
  }

  function seriesOf(rounds, pick, clientPick, extra) {
    const names = [];
    for (const r of rounds) for (const c of r.clients) if (!names.includes(c.client)) names.push(c.client);
    const clients = names.map((name) => ({
      key: 'client', label: name, color: colorOf(name), width: 1.5,
      points: rounds.flatMap((r) => { const c = r.clients.find((e) => e.client === name); return c && has(clientPick(c)) ? [{ x: r.round, y: clientPick(c) }] : []; }),
    }));
    const line = (key, label, color, width, dashed, f) => ({ key: key, label: label, color: color, width: width, dashed: dashed, points: rounds.flatMap((r) => has(f(r)) ? [{ x: r.round, y: f(r) }] : []) });
    return clients.concat(extra.map((e) => line(e[0], e[1], e[2], 1.5, true, e[3])), [line('aggregate', 'federated (weighted)', AGGREGATE, 2.5, false, pick)]);
  }
`;
