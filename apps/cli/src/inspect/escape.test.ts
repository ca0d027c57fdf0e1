import { escapeHtml, jsonForScript } from './escape.js';

describe('jsonForScript: data safe inside <script type="application/json">', () => {
  const hostile = {
    a: '</script><script>alert(1)</script>',
    b: '<!-- <img src=x onerror=alert(1)>',
    c: 'line\u2028sep\u2029para',
    d: 'lone \ud800 high and \udc00 low',
    e: 'a & b > c',
  };

  test('no character that can end or change the block, and the value round-trips', () => {
    const s = jsonForScript(hostile);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(hostile);
  });

  test('lone surrogates are written as escapes: the text stays valid UTF-8', () => {
    const s = jsonForScript(hostile);
    expect(s).toContain('\\ud800');
    expect(s).toContain('\\udc00');
    expect(Buffer.from(s, 'utf8').toString('utf8')).toBe(s);
  });
});

test('escapeHtml leaves no markup', () => {
  expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
});
