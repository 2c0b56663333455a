#!/usr/bin/env node
// Solves conda match specs against one channel with rattler (the solver under pixi and conda's newer tools), as a
// conda-ecosystem client does before it downloads anything. It fetches the channel's repodata itself (with Node's
// fetch, no disk cache) and does not download packages: the caller downloads each solved `url`.
//
//   node solve.cjs <channel-url> <platform[,platform...]> <spec> [<spec>...]
//
// Prints the solved records as one JSON array on stdout (sorted by name) and exits 0; or prints rattler's own error
// message on stderr and exits 1 (2 for bad arguments).
'use strict';

const rattler = require('@conda-org/rattler');

async function main(argv) {
  if (argv.length < 3) {
    process.stderr.write('usage: node solve.cjs <channel-url> <platform[,platform...]> <spec> [<spec>...]\n');
    return 2;
  }
  const [channel, platformList, ...specs] = argv;
  const platforms = platformList.split(',').filter((p) => p.length > 0);
  let solved;
  try {
    solved = await rattler.simpleSolve(specs, [channel], platforms, []);
  } catch (error) {
    // rattler rejects with a plain string (its Display of the error) or an Error: print it as it is.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const records = solved.map((p) => ({
    name: p.packageName,
    version: p.version,
    build: p.build,
    buildNumber: p.buildNumber === undefined ? null : Number(p.buildNumber),
    subdir: p.subdir ?? null,
    filename: p.filename,
    url: p.url,
    sha256: p.sha256 ?? null,
    md5: p.md5 ?? null,
    size: p.size === undefined ? null : Number(p.size),
    depends: p.depends ?? [],
  }));
  records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  process.stdout.write(`${JSON.stringify(records)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`); process.exitCode = 1; },
);
