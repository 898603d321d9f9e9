'use strict';
/* What the benchmarks' report scripts (bench/sync/report.js, bench/client/report.js) share:
 * number formatting, Markdown tables, the machine and revision measured, and replacing a
 * generated section of docs/benchmarks.md. */

const fs = require('fs');
const os = require('os');

// --- Formatting

const fixed = (x, digits = 2) => x.toFixed(digits);
const thousands = (n) => Math.round(n).toLocaleString('en-US');
const kib = (bytes) => (bytes < 10240 ? thousands(bytes) + ' B'
  : (bytes / 1024).toLocaleString('en-US', { maximumFractionDigits: 0 }) + ' KiB');
const ratio = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(1)) + '×';
const verdict = (ok) => (ok ? '**met**' : '**not met**');

function table(header, rows) {
  const line = (cells) => '| ' + cells.join(' | ') + ' |';
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// --- Machine

// The code measured: the commit, and which tracked product files differed from it (others may be
// editing the tree while the benchmark runs).
function revision() {
  const { execSync } = require('child_process');
  try {
    const git = (args) => execSync(`git ${args}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    const commit = git('rev-parse --short HEAD');
    const changed = git('status --porcelain --untracked-files=no').split('\n').filter(Boolean)
      .map((l) => l.slice(3)).filter((f) => !/^(bench|docs)\//.test(f));
    return changed.length ? `${commit} with uncommitted changes to ${changed.join(', ')}` : commit;
  } catch (_) {
    return 'unknown revision';
  }
}

function machine() {
  let cpu = 'unknown CPU';
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch (_) { /* not Linux */ }
  return {
    cpu,
    nproc: os.cpus().length,
    memory: Math.round(os.totalmem() / 2 ** 30) + ' GiB',
    kernel: os.release(),
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}


// --- docs/benchmarks.md

// Replaces the generated section of FILE between BEGIN and END, keeping everything around it;
// a file without the markers gets the section appended under HEADING.
function writeSection(file, begin, end, heading, text) {
  const section = `${begin}\n${text}\n${end}`;
  let doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const at = doc.indexOf(begin);
  const until = doc.indexOf(end);
  if (at >= 0 && until > at) {
    doc = doc.slice(0, at) + section + doc.slice(until + end.length);
  } else {
    doc = (doc || '# Benchmarks\n') + `\n## ${heading}\n\n` + section + '\n';
  }
  fs.writeFileSync(file, doc);
}

module.exports = { fixed, thousands, kib, ratio, verdict, table, revision, machine, writeSection };
