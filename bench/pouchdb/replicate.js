#!/usr/bin/env node
'use strict';
/*
 * Baseline: PouchDB 9 replication against express-pouchdb, on loopback only.
 *
 *   node replicate.js [--docs N] [--no-compression] [--keep-alive]
 *
 * Defaults are PouchDB's / express-pouchdb's out-of-the-box behaviour:
 *  - express-pouchdb's "minimumForPouchDB" mode includes gzip response
 *    compression, and PouchDB's node-fetch sends Accept-Encoding: gzip, so
 *    responses (server -> client) are compressed; request bodies are not.
 *    --no-compression turns the server's compression off.
 *  - PouchDB in Node uses node-fetch 2 without an agent, which sends
 *    "Connection: close": every HTTP request opens a new TCP connection.
 *    --keep-alive gives the client a keep-alive http.Agent instead (closer to
 *    what a browser does).
 *
 * The parent process is the replication client (pouchdb-core 9 + http adapter
 * + replication + memory adapter).  It forks itself (--server-child) to run the
 * server: express + express-pouchdb (mode "minimumForPouchDB") over a
 * pouchdb-core 9 constructor with the memory adapter, listening on
 * 127.0.0.1 port 0.  Client and server live in separate processes so that
 * neither steals the other's event loop.
 *
 * Traffic is counted in the server process on the raw TCP sockets of the
 * http.Server (socket.bytesRead / socket.bytesWritten deltas, so HTTP headers
 * and chunked framing are included; TCP/IP overhead is not).  Requests are
 * counted with the http.Server 'request' event.
 *
 * stdout: exactly one JSON line.  Everything else goes to stderr.
 */

const path = require('path');
const { fork } = require('child_process');

const SERVER_DB = 'bench';

function log(...args) {
  console.error('[pouchdb-bench]', ...args);
}

function parseArgs(argv) {
  const opts = { docs: 10000, compression: true, keepAlive: false, serverChild: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--docs' || a === '-n') {
      opts.docs = Number(argv[++i]);
    } else if (a.startsWith('--docs=')) {
      opts.docs = Number(a.slice('--docs='.length));
    } else if (a === '--no-compression') {
      opts.compression = false;
    } else if (a === '--keep-alive') {
      opts.keepAlive = true;
    } else if (a === '--server-child') {
      opts.serverChild = true;
    } else if (a === '-h' || a === '--help') {
      console.error('usage: node replicate.js [--docs N] [--no-compression] [--keep-alive]');
      process.exit(0);
    } else {
      console.error('unknown argument: ' + a);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.docs) || opts.docs < 1) {
    console.error('--docs must be a positive integer');
    process.exit(2);
  }
  return opts;
}

function makePouch() {
  const PouchDB = require('pouchdb-core')
    .plugin(require('pouchdb-adapter-http'))
    .plugin(require('pouchdb-adapter-memory'))
    .plugin(require('pouchdb-mapreduce'))
    .plugin(require('pouchdb-replication'));
  return PouchDB;
}

/* ------------------------------------------------------------------ server */

async function runServer(opts) {
  const http = require('http');
  const express = require('express');
  const expressPouchDB = require('express-pouchdb');

  // Distinct prefix so the server's memdown stores can never collide with
  // anything else (they are in a separate process anyway).
  const ServerPouch = makePouch().defaults({ adapter: 'memory', prefix: 'srv_' });

  const pouchApp = expressPouchDB(ServerPouch, {
    mode: 'minimumForPouchDB',
    inMemoryConfig: true,
    overrideMode: opts.compression ? {} : { exclude: ['compression'] },
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/', pouchApp);

  // Pre-create the database so the measured push does not include a PUT /db.
  await new ServerPouch(SERVER_DB).info();

  const server = http.createServer(app);
  server.keepAliveTimeout = 60000;

  const live = new Set();
  let closedRead = 0;
  let closedWritten = 0;
  let requests = 0;
  let connections = 0;

  server.on('connection', (sock) => {
    connections++;
    live.add(sock);
    sock.on('close', () => {
      closedRead += sock.bytesRead;
      closedWritten += sock.bytesWritten;
      live.delete(sock);
    });
  });
  const byRoute = {};
  server.on('request', (req) => {
    requests++;
    // e.g. "POST /bench/_bulk_docs", "GET /bench/_local/*"
    let route = req.method + ' ' + req.url.split('?')[0].replace(/(\/_local\/|\/_design\/).*/, '$1*');
    if (/^\S+ \/[^/]+\/[^_/][^/]*$/.test(route)) route = req.method + ' /<db>/<docid>';
    byRoute[route] = (byRoute[route] || 0) + 1;
  });

  function snapshot() {
    let r = closedRead;
    let w = closedWritten;
    for (const s of live) {
      r += s.bytesRead;
      w += s.bytesWritten;
    }
    return { requests, connections, bytesRead: r, bytesWritten: w, byRoute: Object.assign({}, byRoute) };
  }

  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'snapshot') {
      process.send({ type: 'snapshot', id: msg.id, data: snapshot() });
    } else if (msg.type === 'stop') {
      server.close(() => process.exit(0));
      for (const s of live) s.destroy();
      setTimeout(() => process.exit(0), 2000).unref();
    }
  });
  process.on('disconnect', () => process.exit(0));

  server.listen(0, '127.0.0.1', () => {
    const { address, port } = server.address();
    process.send({ type: 'ready', address, port });
  });
}

/* ------------------------------------------------------------------ client */

// Small deterministic PRNG so document contents (and thus byte counts) are
// reproducible run to run; ids are fixed-length 36-char uuid-shaped strings.
function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeDocs(n) {
  const rnd = mulberry32(0x5eed);
  const hex = (len) => {
    let s = '';
    for (let i = 0; i < len; i++) s += Math.floor(rnd() * 16).toString(16);
    return s;
  };
  const villages = ['Kalobeyei', 'Nadapal', 'Lokichoggio', 'Kakuma', 'Natukobenyo', 'Lopiding'];
  const needs = ['water, shelter', 'food', 'medical', 'water', 'shelter, blankets', 'school fees'];
  const docs = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    docs[i] = {
      _id: id,
      type: 'submission',
      name: 'Household ' + (i + 1),
      village: villages[Math.floor(rnd() * villages.length)],
      members: 1 + Math.floor(rnd() * 9),
      needs: needs[Math.floor(rnd() * needs.length)],
      updated: '2026-11-20',
    };
  }
  return docs;
}

function startServer(opts) {
  return new Promise((resolve, reject) => {
    const args = ['--server-child'];
    if (!opts.compression) args.push('--no-compression');
    const child = fork(__filename, args, {
      // The server's stdout goes to our stderr: our stdout carries only the JSON line.
      stdio: ['ignore', 2, 2, 'ipc'],
      cwd: path.dirname(__filename),
    });
    const pending = new Map();
    let nextId = 1;
    child.on('message', (msg) => {
      if (msg.type === 'ready') {
        resolve({
          child,
          url: `http://${msg.address}:${msg.port}`,
          snapshot() {
            const id = nextId++;
            return new Promise((res) => {
              pending.set(id, res);
              child.send({ type: 'snapshot', id });
            });
          },
          stop() {
            return new Promise((res) => {
              if (child.exitCode !== null) return res();
              child.once('exit', () => res());
              child.send({ type: 'stop' });
            });
          },
        });
      } else if (msg.type === 'snapshot') {
        const res = pending.get(msg.id);
        pending.delete(msg.id);
        if (res) res(msg.data);
      }
    });
    child.once('error', reject);
    // Rejecting after 'ready' resolved is a no-op, so this only fires on early death.
    child.once('exit', (code) => reject(new Error('server exited early with code ' + code)));
  });
}

function diff(a, b) {
  const routes = {};
  for (const k of Object.keys(b.byRoute)) {
    const n = b.byRoute[k] - (a.byRoute[k] || 0);
    if (n) routes[k] = n;
  }
  return {
    routes,
    requests: b.requests - a.requests,
    connections: b.connections - a.connections,
    bytes_up: b.bytesRead - a.bytesRead,
    bytes_down: b.bytesWritten - a.bytesWritten,
  };
}

async function measure(server, fn) {
  const before = await server.snapshot();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const t1 = process.hrtime.bigint();
  const after = await server.snapshot();
  const d = diff(before, after);
  return {
    result,
    routes: d.routes,
    phase: {
      seconds: Number(t1 - t0) / 1e9,
      requests: d.requests,
      bytes_up: d.bytes_up,
      bytes_down: d.bytes_down,
      connections: d.connections,
    },
  };
}

async function runClient(opts) {
  const PouchDB = makePouch();
  const ClientPouch = PouchDB.defaults({ adapter: 'memory', prefix: 'cli_' });
  const pouchVersion = PouchDB.version;
  const expressPouchVersion = require('express-pouchdb/package.json').version;

  const server = await startServer(opts);
  const remoteUrl = `${server.url}/${SERVER_DB}`;
  // What PouchDB.replicate() would build from the URL string, optionally with
  // a keep-alive agent.  Without --keep-alive this is exactly the default.
  const remoteOpts = {};
  if (opts.keepAlive) {
    const http = require('http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    remoteOpts.fetch = (url, fopts) => PouchDB.fetch(url, Object.assign({}, fopts, { agent }));
  }
  const remote = () => (opts.keepAlive ? new PouchDB(remoteUrl, remoteOpts) : remoteUrl);
  log(`server at ${server.url} (express-pouchdb ${expressPouchVersion}, ` +
      `compression ${opts.compression ? 'on' : 'off'}, keep-alive ${opts.keepAlive ? 'on' : 'off'})`);

  try {
    // 1. push
    const local = new ClientPouch('push_client');
    const docs = makeDocs(opts.docs);
    for (let i = 0; i < docs.length; i += 1000) {
      await local.bulkDocs(docs.slice(i, i + 1000));
    }
    const localInfo = await local.info();
    log(`local db has ${localInfo.doc_count} docs; pushing...`);

    const push = await measure(server, () => PouchDB.replicate(local, remote()));
    if (push.result.docs_written !== opts.docs) {
      throw new Error(`push wrote ${push.result.docs_written} docs, expected ${opts.docs}`);
    }
    log(`push: ${push.phase.seconds.toFixed(3)} s, ${push.phase.requests} requests, ` +
        `${push.phase.connections} new connections, up ${push.phase.bytes_up} B, down ${push.phase.bytes_down} B`);
    log('push requests by route: ' + JSON.stringify(push.routes));

    // 2. pull into a fresh client db
    const fresh = new ClientPouch('pull_client');
    const pull = await measure(server, () => PouchDB.replicate(remote(), fresh));
    const freshInfo = await fresh.info();
    if (freshInfo.doc_count !== opts.docs) {
      throw new Error(`pull produced ${freshInfo.doc_count} docs, expected ${opts.docs}`);
    }
    log(`pull: ${pull.phase.seconds.toFixed(3)} s, ${pull.phase.requests} requests, ` +
        `${pull.phase.connections} new connections, up ${pull.phase.bytes_up} B, down ${pull.phase.bytes_down} B`);
    log('pull requests by route: ' + JSON.stringify(pull.routes));

    const out = {
      system: 'pouchdb',
      pouchdb_version: pouchVersion,
      docs: opts.docs,
      push: push.phase,
      pull: pull.phase,
      server: `express-pouchdb ${expressPouchVersion} (memory adapter)`,
      compression: opts.compression,
      keep_alive: opts.keepAlive,
      counting: 'server raw socket bytesRead/bytesWritten deltas',
    };
    process.stdout.write(JSON.stringify(out) + '\n');

    await local.destroy();
    await fresh.destroy();
  } finally {
    await server.stop();
  }
}

const opts = parseArgs(process.argv.slice(2));
if (opts.serverChild) {
  runServer(opts).catch((err) => {
    console.error('[pouchdb-bench server]', err && err.stack || err);
    process.exit(1);
  });
} else {
  runClient(opts).then(
    () => process.exit(0),
    (err) => {
      console.error('[pouchdb-bench]', err && err.stack || err);
      process.exit(1);
    },
  );
}
