/**
 * Browser code (plain ES2019, no template literals): DOM helpers, the run overview and the
 * hardness charts. Every string from the run goes in through text nodes, never markup.
 */
export const OVERVIEW_JS = String.raw`
var D = JSON.parse(document.getElementById('report-data').textContent);
var SVGNS = 'http://www.w3.org/2000/svg';
function h(tag, attrs) {
  var el = document.createElement(tag);
  for (var k in attrs || {}) el.setAttribute(k, attrs[k]);
  for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
  return el;
}
function add(el) {
  for (var i = 1; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === null || c === undefined) continue;
    if (Array.isArray(c)) c.forEach(function (x) { add(el, x); });
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}
function s(tag, attrs) {
  var el = document.createElementNS(SVGNS, tag);
  for (var k in attrs || {}) el.setAttribute(k, String(attrs[k]));
  return el;
}
function fmt(x) {
  if (x === null || x === undefined) return '-';
  if (typeof x === 'number') return Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(3);
  // objects, and strings whose whitespace would not show (a "\n\n" separator), as JSON
  return typeof x === 'object' || /^\s*$|[\n\r\t]/.test(String(x)) ? JSON.stringify(x) : String(x);
}
function table(head, rows, numeric) {
  return h('table', {}, h('thead', {}, h('tr', {}, head.map(function (c, i) { return h('th', numeric && numeric[i] ? { class: 'num' } : {}, c); }))),
    h('tbody', {}, rows.map(function (r) { return h('tr', {}, r.map(function (c, i) { return h('td', numeric && numeric[i] ? { class: 'num' } : {}, fmt(c)); })); })));
}
function section(id) { return document.getElementById(id); }
var C = D.counts;
var discarded = 0;
for (var r in C.sequences_discarded) discarded += C.sequences_discarded[r];

function status() {
  var p = D.progress;
  var st = D.finished ? 'finished ' + D.run.finished_at : 'in progress: embed ' + p.embed.done + '/' + p.embed.total + ', index ' + p.index.done + '/1, synth ' + p.synth.done + '/' + p.synth.total + ' shards (counts cover the done shards)';
  var sm = D.sample;
  add(section('status'), [D.source + ' · ' + st + ' · report generated ' + D.generated_at, h('br'),
    'Sampled: ' + sm.picked + ' of ' + sm.total_sequences + ' sequences (' + sm.requested + '); within the ' + +(sm.budget_bytes / 1e6).toFixed(1) +
    ' MB budget ' + sm.shown + ' shown, ' + sm.with_text + ' with their text' + (sm.missing_ids.length ? '; not found: ' + sm.missing_ids.join(', ') : '')]);
}

function overview() {
  var o = section('overview');
  var box = function (key, label, value) { return h('div', { class: 'box' }, h('b', { 'data-count': key }, fmt(value)), label); };
  add(o, h('h3', {}, 'Counts'));
  add(o, h('div', { class: 'flow' }, box('documents_read', 'read', C.documents_read), '→',
    box('documents_rejected', 'rejected', C.documents_rejected), box('documents_unsampled', 'not sampled', C.documents_unsampled),
    box('sequences_discarded', 'discarded', discarded), C.documents_merged ? box('documents_merged', 'merged (iclm)', C.documents_merged) : null,
    box('sequences_written', 'written', C.sequences_written)));
  add(o, flowBar());
  var more = [];
  for (var k in C) if (k !== 'sequences_discarded') more.push([k, C[k]]);
  for (var d in C.sequences_discarded) more.push(['discarded: ' + d, C.sequences_discarded[d]]);
  var t = D.timings, secs = t.total_seconds;
  var rows = Object.keys(t).map(function (k) { return [k, t[k]]; });
  if (secs) rows.push(['output tokens/s', Math.round(C.output_tokens / secs)], ['sequences/min', +(C.sequences_written / (secs / 60)).toFixed(1)]);
  // 0 means "as many as the machine's cores" for these (the run's own machine, not the reader's)
  var cores = { concurrency: 1, indexThreads: 1, embedThreads: 1 };
  var cfg = Object.keys(D.run.config).map(function (k) { return [k, cores[k] && D.run.config[k] === 0 ? '0 (cores)' : D.run.config[k]]; });
  cfg.unshift(['run id', D.run.run_id], ['started', D.run.created_at], ['chars per token (E)', D.run.chars_per_token]);
  if (D.run.method) cfg.unshift(['method', D.run.method]);
  add(o, h('div', { class: 'grid' },
    h('div', {}, h('h3', {}, 'All counts'), table(['count', 'value'], more, [0, 1])),
    h('div', {}, h('h3', {}, 'Stage timings and throughput'), table(['stage', 'seconds'], rows, [0, 1])),
    h('div', {}, h('h3', {}, 'Configuration'), table(['key', 'value'], cfg))));
  var rj = Object.keys(D.rejects_by_reason).map(function (k) { return [k, D.rejects_by_reason[k]]; });
  add(o, h('h3', {}, 'Rejects by reason'), rj.length ? table(['reason', 'records'], rj, [0, 1]) : h('p', { class: 'muted' }, 'No input record was rejected.'));
  if (D.reject_examples.length) add(o, h('h3', {}, 'First examples'), table(['reason', 'file', 'line', 'message'],
    D.reject_examples.map(function (e) { return [e.reason, e.file, e.line, e.message]; })));
  add(o, h('h3', {}, 'Per shard (synth)'), table(['shard', 'file', 'done', 'read', 'rejected', 'unsampled', 'written', 'discarded', 'negatives', 'tokens', 'seconds'],
    D.shards.map(function (x) { return [x.id, x.file, x.done ? 'yes' : 'no', x.documents_read, x.documents_rejected, x.documents_unsampled, x.sequences_written, x.sequences_discarded, x.negatives, x.output_tokens, x.seconds]; }),
    [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]));
}

function flowBar() {
  var parts = [['written', C.sequences_written, '#3a9d5d'], ['discarded', discarded, '#d9534f'], ['rejected', C.documents_rejected, '#9b59b6'], ['not sampled', C.documents_unsampled, '#aab'], ['merged', C.documents_merged || 0, '#5bc0de']];
  var total = Math.max(1, C.documents_read), x = 0, svg = s('svg', { width: 600, height: 22, viewBox: '0 0 600 22', role: 'img' });
  parts.forEach(function (p) {
    var w = 600 * p[1] / total;
    var r = s('rect', { x: x, y: 2, width: w, height: 18, fill: p[2] });
    r.appendChild(s('title')).textContent = p[0] + ': ' + p[1];
    svg.appendChild(r); x += w;
  });
  return h('div', {}, svg);
}

function histogram(series, bins, lo, hi, width, height, xlabel) {
  var svg = s('svg', { width: width, height: height + 30, viewBox: '0 0 ' + width + ' ' + (height + 30), role: 'img' });
  var max = 0;
  series.forEach(function (sr) { sr.norm.forEach(function (v) { if (v > max) max = v; }); });
  var bw = width / (hi - lo);
  series.forEach(function (sr) {
    for (var i = lo; i < hi; i++) {
      var v = sr.norm[i] || 0;
      if (!v) continue;
      var bh = height * v / max;
      svg.appendChild(s('rect', { x: (i - lo) * bw, y: height - bh, width: Math.max(1, bw - 1), height: bh, fill: sr.color, 'fill-opacity': 0.6 }));
    }
  });
  svg.appendChild(s('line', { x1: 0, y1: height, x2: width, y2: height, stroke: '#999' }));
  [lo, Math.round((lo + hi) / 2), hi].forEach(function (b, j) {
    var t = s('text', { x: j === 0 ? 0 : j === 1 ? width / 2 : width, y: height + 14, 'font-size': 11, 'text-anchor': j === 0 ? 'start' : j === 1 ? 'middle' : 'end' });
    t.textContent = bins(b); svg.appendChild(t);
  });
  var lab = s('text', { x: width / 2, y: height + 28, 'font-size': 11, 'text-anchor': 'middle' });
  lab.textContent = xlabel; svg.appendChild(lab);
  return svg;
}

function hardness() {
  var o = section('hardness'), sc = D.scores;
  var norm = function (hist) { var n = hist.reduce(function (a, b) { return a + b; }, 0) || 1; return hist.map(function (v) { return v / n; }); };
  var lo = sc.negative_hist.length, hi = 0;
  [sc.negative_hist, sc.random_hist].forEach(function (hs) { hs.forEach(function (v, i) { if (v) { lo = Math.min(lo, i); hi = Math.max(hi, i + 1); } }); });
  if (hi <= lo) { lo = 0; hi = sc.negative_hist.length; }
  var nb = sc.negative_hist.length;
  // BM25 scores exceed 1: the histogram over [-1, 1] and its quantiles saturate, so only the exact summaries are shown
  if (D.run.config.retriever === 'bm25' && (D.run.method || 'nextlong') === 'nextlong') {
    add(o, h('h3', { id: 'score-title' }, 'BM25 scores (not cosines): negatives placed vs random pool chunks'),
      h('p', { class: 'muted' }, 'BM25 scores lie above 1, outside the [-1, 1] histogram: its quantiles saturate, so count, mean, min and max are shown.'),
      table(['', 'count', 'mean', 'min', 'max'], [['negatives', sc.negative.count, sc.negative.mean, sc.negative.min, sc.negative.max],
        ['random', sc.random.count, sc.random.mean, sc.random.min, sc.random.max]], [0, 1, 1, 1, 1]));
  } else add(o, h('h3', { id: 'score-title' }, 'Cosine similarity: negatives placed vs random pool chunks'),
    h('div', { class: 'legend' }, h('span', { style: 'background:#e07b28' }), 'hard negatives', h('span', { style: 'background:#2f6fdb' }), 'random pool pairs (baseline)'),
    histogram([{ norm: norm(sc.random_hist), color: '#2f6fdb' }, { norm: norm(sc.negative_hist), color: '#e07b28' }], function (b) { return (b / (nb / 2) - 1).toFixed(2); }, lo, hi, 640, 160, 'cosine similarity (share of pairs per bin)'),
    table(['', 'count', 'mean', 'min', 'p10', 'p50', 'p90', 'max'], [['negatives', sc.negative.count, sc.negative.mean, sc.negative.min, sc.negative.p10, sc.negative.p50, sc.negative.p90, sc.negative.max],
      ['random', sc.random.count, sc.random.mean, sc.random.min, sc.random.p10, sc.random.p50, sc.random.p90, sc.random.max]], [0, 1, 1, 1, 1, 1, 1, 1]));
  var ks = Object.keys(D.k_hist).map(Number).sort(function (a, b) { return a - b; });
  add(o, h('h3', {}, 'Negatives per meta-chunk (k), over the ' + D.sample.scanned + ' sequences read'));
  if (ks.length) {
    var arr = []; for (var i = 0; i <= ks[ks.length - 1]; i++) arr.push(D.k_hist[i] || 0);
    add(o, histogram([{ norm: arr, color: '#3a9d5d' }], function (b) { return String(b); }, 0, arr.length, Math.min(640, 40 + 24 * arr.length), 120, 'k (negatives after a meta-chunk; the last group may be cut at T)'),
      h('div', { class: 'scroll short', style: 'display:inline-block' }, table(['k', 'meta-chunks'], ks.map(function (k) { return [k, D.k_hist[k]]; }), [1, 1])));
  } else add(o, h('p', { class: 'muted' }, 'Not counted (random placement mixes the groups, or no sequence was read).'));
  var ng = D.negatives, sk = Object.keys(ng.skipped).map(function (k) { return [k, ng.skipped[k]]; });
  add(o, h('h3', {}, 'Negatives placed, shortfall and skipped candidates'),
    table(['', 'count'], [['placed', ng.placed], ['shortfall (pool ran out)', ng.shortfall]].concat(sk.map(function (x) { return ['skipped: ' + x[0], x[1]]; })), [0, 1]));
}
status();
overview();
hardness();
`;
