// Oracle for the conda MatchSpec tests. rattler's npm package has no MatchSpec binding, so this asks its solver:
// for each case it serves a one-record channel (noarch/repodata.json) from a loopback HTTP server and solves the spec
// against it. Solved: the spec matches the record; "No candidates" / "Cannot solve": it does not; any other error is
// rattler refusing the spec itself.
// Input (stdin): [{"spec": "numpy=1.21=py39_0", "name": "numpy", "version": "1.21", "build": "py39_0"}, ...]
// Output (stdout): [{"ok": true, "value": true | false} | {"ok": false, "error": "<rattler's message>"}, ...]
'use strict';
const http = require('http');
const rattler = require('@conda-org/rattler');

const channels = new Map();

function record(c) {
  const file = `${c.name}-${c.version}-${c.build}.tar.bz2`;
  return {
    info: { subdir: 'noarch' },
    packages: {
      [file]: {
        name: c.name, version: c.version, build: c.build, build_number: 0, depends: [], subdir: 'noarch',
        noarch: 'generic', sha256: '0'.repeat(64), size: 1,
      },
    },
    'packages.conda': {},
    repodata_version: 1,
  };
}

const server = http.createServer((req, res) => {
  const match = /^\/(\d+)\/noarch\/repodata\.json$/.exec(req.url);
  if (match && channels.has(match[1])) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(channels.get(match[1])));
  } else {
    res.statusCode = 404;
    res.end();
  }
});

async function answer(base, c, i) {
  channels.set(String(i), record(c));
  try {
    const solved = await rattler.simpleSolve([c.spec], [`${base}/${i}`], ['noarch'], []);
    return { ok: true, value: solved.some((p) => p.packageName.toLowerCase() === c.name.toLowerCase()) };
  } catch (e) {
    const message = String(e && e.message ? e.message : e).trim();
    if (/No candidates were found|Cannot solve/.test(message)) return { ok: true, value: false };
    return { ok: false, error: message };
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  server.listen(0, '127.0.0.1', async () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    const answers = [];
    for (let i = 0; i < cases.length; i += 8) {
      answers.push(...await Promise.all(cases.slice(i, i + 8).map((c, j) => answer(base, c, i + j))));
    }
    server.close();
    process.stdout.write(JSON.stringify(answers));
  });
});
