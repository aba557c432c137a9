// A real controller for the dashboard's browser tests: `lastgood serve` in a temporary
// LASTGOOD_HOME with --ui on a free loopback port, the CLI to deploy, and a teardown that
// stops the controller and then kills exactly the processes that belong to that home
// (instances run in it; the router names it on its command line).
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = path.resolve(repo, process.env.BUILD_DIR || 'build');
export const lastgood = path.join(buildDir, 'lastgood');

// A port that was free a moment ago, chosen at random below the kernel's ephemeral range
// (32768 and up on Linux), which outgoing connections take their source ports from
// (tests/testutil/http.h, FreePort, says why).
function tryPort(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.on('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 22000);
    if (await tryPort(port)) return port;
  }
  throw new Error('no free port between 10000 and 32000');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Controller {
  async start() {
    this.home = mkdtempSync(path.join(os.tmpdir(), 'lg-ui-'));
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.log = '';
    this.proc = spawn(lastgood, ['serve', '--ui', `127.0.0.1:${this.port}`], {
      env: { ...process.env, LASTGOOD_HOME: this.home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/v1/apps`);
        if (r.status === 401 && existsSync(path.join(this.home, 'api.sock'))) return this;
      } catch { /* not listening yet */ }
      if (this.proc.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`the controller did not come up:\n${this.log}`);
  }

  // Runs the CLI against this controller; resolves {code, stdout, stderr}.
  cli(args, timeoutMs = 60000) {
    return new Promise((resolve) => {
      execFile(lastgood, args, { env: { ...process.env, LASTGOOD_HOME: this.home }, timeout: timeoutMs, cwd: repo },
        (err, stdout, stderr) => resolve({ code: err ? (err.code ?? -1) : 0, stdout, stderr }));
    });
  }

  async loginUrl(role = 'admin') {
    const r = await this.cli(['dashboard', '--role', role, '-o', 'json']);
    if (r.code !== 0) throw new Error(`lastgood dashboard failed: ${r.stderr}`);
    return JSON.parse(r.stdout).url;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const deadline = Date.now() + 10000;
      while (this.proc.exitCode === null && Date.now() < deadline) await sleep(50);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    for (let round = 0; round < 100; round++) {
      const pids = this.pidsOfHome();
      if (!pids.length) break;
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await sleep(20);
    }
    if (!process.env.LASTGOOD_KEEP_HOME) rmSync(this.home, { recursive: true, force: true });
  }

  pidsOfHome() {
    const pids = [];
    for (const e of readdirSync('/proc')) {
      const pid = Number(e);
      if (!pid || pid === process.pid) continue;
      try {
        let mine = false;
        try {
          const cwd = readlinkSync(`/proc/${pid}/cwd`);
          mine = cwd === this.home || cwd.startsWith(`${this.home}/`);
        } catch { /* not ours to read */ }
        if (!mine) mine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.home);
        if (mine && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')) pids.push(pid);
      } catch { /* exited meanwhile */ }
    }
    return pids;
  }
}
