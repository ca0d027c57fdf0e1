/**
 * Browser code: the sequence explorer (list with search by document id, to-scale strip, meta-chunk
 * groups, segment table, piece reader, keyboard navigation). Uses the helpers of client-overview.
 */
export const EXPLORER_JS = String.raw`
var X = { seq: -1, seg: -1, visible: [] };
var ex = section('explorer');
var search = h('input', { type: 'search', id: 'search', placeholder: 'search document id (meta or negative)' });
var list = h('div', { class: 'seqlist', id: 'seqlist' });
var detail = h('div', { id: 'detail' });
add(ex, h('p', { class: 'muted' }, 'Keys: ', h('span', { class: 'kbd' }, 'j'), '/', h('span', { class: 'kbd' }, 'k'), ' next/previous piece, ',
  h('span', { class: 'kbd' }, 'n'), '/', h('span', { class: 'kbd' }, 'p'), ' next/previous sequence, ', h('span', { class: 'kbd' }, '/'), ' search.'));
add(ex, h('div', { class: 'explorer' }, h('div', {}, search, list), detail));

function renderList() {
  var q = search.value.trim();
  while (list.firstChild) list.removeChild(list.firstChild);
  X.visible = [];
  D.sequences.forEach(function (sq, i) {
    if (q && sq.meta_doc_id.indexOf(q) < 0 && !sq.segments.some(function (g) { return g.doc_id.indexOf(q) >= 0; })) return;
    X.visible.push(i);
    var row = h('div', { 'data-index': String(i) }, sq.id, h('br'), h('span', { class: 'muted' }, sq.segments.length + ' pieces' + (sq.text === undefined ? ', text not kept' : '')));
    if (i === X.seq) row.className = 'sel';
    row.addEventListener('click', function () { selectSeq(i); });
    list.appendChild(row);
  });
  if (!X.visible.length) add(list, h('p', { class: 'muted' }, D.sequences.length ? 'No sampled sequence has this document id.' : 'No sequence written yet.'));
}

function rangeOf(g, sq) { return g.tokens && sq.text !== undefined ? g.tokens : [g.start, g.end]; }

function strip(sq) {
  var byTok = sq.text !== undefined && sq.segments.length && sq.segments[0].tokens;
  var total = byTok ? sq.num_tokens : Math.max(1, sq.segments.length ? sq.segments[sq.segments.length - 1].end : 1);
  var svg = s('svg', { class: 'strip', id: 'strip', viewBox: '0 0 1000 30', preserveAspectRatio: 'none', role: 'img' });
  sq.segments.forEach(function (g, j) {
    var r = rangeOf(g, sq), x = 1000 * r[0] / total, w = Math.max(0.5, 1000 * (r[1] - r[0]) / total);
    var rect = s('rect', { x: x, y: 0, width: w, height: 30, fill: g.type === 'meta' ? '#2f6fdb' : '#e07b28', stroke: '#fff', 'stroke-width': 0.4, 'data-seg': j });
    rect.appendChild(s('title')).textContent = g.type + ' ' + g.doc_id + ' #' + g.chunk + ' [' + r[0] + ', ' + r[1] + ')';
    rect.addEventListener('click', function () { selectSeg(j); });
    svg.appendChild(rect);
  });
  return h('div', {}, svg, h('div', { class: 'legend muted' }, h('span', { style: 'background:#2f6fdb' }), 'meta-chunk', h('span', { style: 'background:#e07b28' }), 'negative',
    ' · to scale by ' + (byTok ? 'tokens (' + sq.num_tokens.toLocaleString('en-US') + ')' : 'characters (text not kept: no token ranges)')));
}

function groups(sq) {
  var out = h('ol', { class: 'groups', id: 'groups' }), cur = null, pending = [];
  var negItem = function (g, j) { var a = h('a', { href: '#seg-' + j, class: 't-negative' }, g.doc_id + ' #' + g.chunk + (g.score !== undefined ? ' (' + g.score.toFixed(3) + ')' : '')); a.addEventListener('click', function (e) { e.preventDefault(); selectSeg(j); }); return a; };
  sq.segments.forEach(function (g, j) {
    if (g.type === 'meta') {
      cur = h('li', {}, h('a', { href: '#seg-' + j, class: 't-meta' }, 'meta-chunk ' + g.chunk), ': ');
      cur.firstChild.addEventListener('click', function (e) { e.preventDefault(); selectSeg(j); });
      if (sq.placement === 'tail') pending.forEach(function (n, i) { if (i) add(cur, ', '); add(cur, n); });
      pending = [];
      out.appendChild(cur);
    } else if (sq.placement === 'tail' || !cur) pending.push(negItem(g, j));
    else { if (cur.childNodes.length > 2) add(cur, ', '); add(cur, negItem(g, j)); }
  });
  return out;
}

function selectSeq(i) {
  if (i < 0 || i >= D.sequences.length) return;
  X.seq = i; X.seg = -1;
  var sq = D.sequences[i];
  renderList();
  while (detail.firstChild) detail.removeChild(detail.firstChild);
  var info = 'meta document ' + sq.meta_doc_id + ' · ' + sq.num_tokens.toLocaleString('en-US') + ' tokens (' + sq.tokenizer + ')' + (sq.placement ? ' · placement ' + sq.placement : '') +
    (sq.method ? ' · method ' + sq.method : '') + ' · shard ' + sq.shard + ', sequence #' + sq.ordinal + ' · ' + sq.segments.length + ' pieces';
  add(detail, h('h3', { id: 'seq-title' }, sq.id), h('p', { class: 'muted' }, info), strip(sq));
  add(detail, h('h3', {}, 'Meta-chunks in order, each with its own negatives'), h('div', { class: 'scroll short' }, groups(sq)));
  var rows = sq.segments.map(function (g, j) {
    var tr = h('tr', { class: 'seg', id: 'seg-' + j, 'data-start': String(g.start), 'data-end': String(g.end) },
      h('td', { class: 't-' + (g.type === 'meta' ? 'meta' : 'negative') }, g.type), h('td', {}, g.doc_id), h('td', { class: 'num' }, g.chunk),
      h('td', { class: 'num' }, g.score === undefined ? '' : g.score.toFixed(4)),
      h('td', { class: 'num' }, g.tokens && sq.text !== undefined ? g.tokens[0] + '–' + g.tokens[1] : '-'),
      h('td', { class: 'num range' }, g.start + '–' + g.end));
    tr.addEventListener('click', function () { selectSeg(j); });
    return tr;
  });
  var segTable = h('table', { id: 'segments' },
    h('thead', {}, h('tr', {}, ['type', 'doc id', 'chunk', 'score', 'tokens', 'characters'].map(function (c) { return h('th', {}, c); }))), h('tbody', {}, rows));
  var piece = h('pre', { class: 'piece', id: 'piece' }, sq.text === undefined ? 'The text of this sequence was left out to keep the report within its size budget.' : 'Select a segment.');
  add(detail, h('div', { class: 'cols' }, h('div', {}, h('h3', {}, 'Segments (click one to read it)'), h('div', { class: 'scroll' }, segTable)),
    h('div', {}, h('h3', { id: 'piece-title' }, 'Piece'), piece)));
  if (sq.segments.length) selectSeg(0);
}

function selectSeg(j) {
  var sq = D.sequences[X.seq];
  if (!sq || j < 0 || j >= sq.segments.length) return;
  var old = document.getElementById('seg-' + X.seg);
  if (old) old.classList.remove('sel');
  X.seg = j;
  var tr = document.getElementById('seg-' + j);
  tr.classList.add('sel');
  // scroll the table's own box only: the page stays where the reader is
  var box = tr.closest('.scroll'), b = box.getBoundingClientRect(), r = tr.getBoundingClientRect();
  if (r.top < b.top) box.scrollTop -= b.top - r.top + 30;
  else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom;
  var g = sq.segments[j];
  document.getElementById('piece-title').textContent = 'Piece ' + (j + 1) + ' of ' + sq.segments.length + ': ' + g.type + ' ' + g.doc_id + ' #' + g.chunk + ' (' + (g.end - g.start).toLocaleString('en-US') + ' characters)';
  if (sq.text !== undefined) document.getElementById('piece').textContent = sq.text.slice(g.u16[0], g.u16[1]);
}

search.addEventListener('input', function () {
  renderList();
  if (X.visible.length && X.visible.indexOf(X.seq) < 0) selectSeq(X.visible[0]);
});
document.addEventListener('keydown', function (e) {
  if (e.target === search) { if (e.key === 'Escape') search.blur(); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  var vi = X.visible.indexOf(X.seq);
  if (e.key === 'j' || e.key === 'ArrowDown') selectSeg(X.seg + 1);
  else if (e.key === 'k' || e.key === 'ArrowUp') selectSeg(X.seg - 1);
  else if (e.key === 'n' || e.key === 'ArrowRight') { if (vi + 1 < X.visible.length) selectSeq(X.visible[vi + 1]); }
  else if (e.key === 'p' || e.key === 'ArrowLeft') { if (vi > 0) selectSeq(X.visible[vi - 1]); }
  else if (e.key === '/') search.focus();
  else return;
  e.preventDefault();
});
renderList();
if (D.sequences.length) selectSeq(0);
`;
