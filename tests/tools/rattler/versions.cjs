// Oracle for the conda version tests: reads JSON cases on stdin and prints rattler's answers as JSON on stdout.
// Input: an array of cases, each one of
//   {"kind": "version", "text": "1.0a1"}                   -> {"ok": true, "value": "<rattler's canonical form>"}
//   {"kind": "compare", "a": "1.0a1", "b": "1.0"}          -> {"ok": true, "value": -1 | 0 | 1}
//   {"kind": "startsWith", "a": "1.2.3", "b": "1.2"}       -> {"ok": true, "value": true | false}
//   {"kind": "spec", "text": ">=1.0,<2|3.*"}               -> {"ok": true, "value": "<rattler's canonical form>"}
//   {"kind": "matches", "spec": ">=1.0", "version": "1.2"} -> {"ok": true, "value": true | false}
// A string rattler refuses gives {"ok": false, "error": "<rattler's message>"}. Version specs are parsed the way
// rattler reads MatchSpecs in repodata (lenient, its default).
'use strict';
const rattler = require('@conda-org/rattler');

const versions = new Map();
const specs = new Map();

function cached(map, text, make) {
  if (!map.has(text)) {
    try {
      map.set(text, { ok: true, value: make(text) });
    } catch (e) {
      map.set(text, { ok: false, error: String(e && e.message ? e.message : e).trim() });
    }
  }
  return map.get(text);
}

const version = (text) => cached(versions, text, (t) => new rattler.Version(t));
const spec = (text) => cached(specs, text, (t) => new rattler.VersionSpec(t, 'lenient'));

function answer(c) {
  switch (c.kind) {
    case 'version': {
      const v = version(c.text);
      return v.ok ? { ok: true, value: v.value.toString() } : v;
    }
    case 'compare':
    case 'startsWith': {
      const a = version(c.a);
      if (!a.ok) return a;
      const b = version(c.b);
      if (!b.ok) return b;
      return { ok: true, value: c.kind === 'compare' ? Math.sign(a.value.compare(b.value)) : a.value.startsWith(b.value) };
    }
    case 'spec': {
      const s = spec(c.text);
      return s.ok ? { ok: true, value: s.value.toString() } : s;
    }
    case 'matches': {
      const s = spec(c.spec);
      if (!s.ok) return s;
      const v = version(c.version);
      if (!v.ok) return v;
      return { ok: true, value: s.value.matches(v.value) };
    }
    default:
      return { ok: false, error: `unknown case kind '${c.kind}'` };
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  process.stdout.write(JSON.stringify(cases.map(answer)));
});
