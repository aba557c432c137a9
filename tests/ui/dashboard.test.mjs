// The dashboard in a real browser against a real controller (issue 6): log in through the
// link `lastgood dashboard` prints, see the history, roll back through the confirm dialog
// and see the rollback's record appear, and check that a viewer gets no action buttons.
// Screenshots of each main view go to <build>/ui-screenshots/.
//
// Run: node --test tests/ui/   (BUILD_DIR=build by default; needs build/lastgood,
// build/lastgood-sample, build/ui and /usr/bin/chromium — `make test` has them all)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Controller, buildDir, freePort, repo } from './harness.mjs';

const require = createRequire(path.join(repo, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const shots = path.join(buildDir, 'ui-screenshots');
const executablePath = process.env.LASTGOOD_CHROMIUM || '/usr/bin/chromium';

describe('dashboard', { timeout: 120000 }, () => {
  const lg = new Controller();
  let browser;
  let manifest;
  let appPort;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    await lg.start();
    // The sample manifest, with the sample app's binary from this build and a free port.
    const port = await freePort();
    appPort = port;
    manifest = path.join(lg.home, 'web.yaml');
    writeFileSync(manifest, readFileSync(path.join(repo, 'examples/sample.yaml'), 'utf8')
      .replace('../build/lastgood-sample', path.join(buildDir, 'lastgood-sample')));
    for (const label of ['v1', 'v2']) {
      const r = await lg.cli(['apply', '-f', manifest, '--param', `label=${label}`, '--param', `port=${port}`,
        '--param', 'replicas=1']);
      assert.equal(r.code, 0, `apply ${label} failed:\n${r.stdout}\n${r.stderr}\n${lg.log}`);
    }
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  after(async () => {
    if (browser) await browser.close();
    await lg.stop();
  });

  async function logIn(role, viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const link = await lg.loginUrl(role);
    await page.goto(link);
    // The link redirects to the page and leaves no token in the address bar.
    assert.equal(new URL(page.url()).pathname, '/');
    assert.ok(!page.url().includes('token'));
    return { context, page, link };
  }

  test('without a session the API is 401, and a POST without the CSRF token is 403', async () => {
    const anonymous = await fetch(`${lg.url}/v1/apps`);
    assert.equal(anonymous.status, 401);
    const { context, page, link } = await logIn('admin');
    const reused = await fetch(link, { redirect: 'manual' });
    assert.equal(reused.status, 401, 'a login link works once');
    // From inside the logged-in page, as a script on it would try.
    const statusOf = (csrf) => page.evaluate(async (token) => {
      const headers = { 'Content-Type': 'application/json' };
      if (token) headers['X-CSRF-Token'] = token;
      const r = await fetch('/v1/apps/web/rollback', { method: 'POST', headers, body: '{"whatIf":true}' });
      return r.status;
    }, csrf);
    assert.equal(await statusOf(''), 403);
    const session = await page.evaluate(async () => (await fetch('/v1/session')).json());
    assert.equal(session.role, 'admin');
    assert.equal(await statusOf(session.csrfToken), 200);
    await context.close();
  });

  test('an admin sees the apps, the history, the versions, and rolls back', async () => {
    const { context, page } = await logIn('admin');
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    await page.getByRole('link', { name: 'web', exact: true }).first().waitFor();
    await page.screenshot({ path: path.join(shots, 'apps.png'), fullPage: true });

    await page.goto(`${lg.url}/#/history/web`);
    const items = page.locator('.tl-item');
    await items.nth(1).waitFor();
    assert.equal(await items.count(), 2);
    await page.screenshot({ path: path.join(shots, 'history.png'), fullPage: true });
    await items.first().locator('a').click();
    await page.getByRole('heading', { name: 'Operations' }).waitFor();
    await page.locator('.steps li').first().waitFor();
    await page.screenshot({ path: path.join(shots, 'record.png'), fullPage: true });

    await page.goto(`${lg.url}/#/versions/web/2`);
    await page.locator('.yaml .line').first().waitFor();
    assert.match(await page.locator('.yaml').innerText(), /label/);
    await page.screenshot({ path: path.join(shots, 'version-code.png'), fullPage: true });
    await page.getByRole('tab', { name: 'Pipeline' }).click();
    await page.locator('.pipeline .stage').first().waitFor();
    await page.screenshot({ path: path.join(shots, 'version-pipeline.png'), fullPage: true });
    await page.goto(`${lg.url}/#/diff/web/1/2`);
    await page.locator('table.diff tr.chg').first().waitFor();
    await page.screenshot({ path: path.join(shots, 'diff.png'), fullPage: true });

    // A few seconds of traffic through the router, so that the charts have lines.
    for (let i = 0; i < 30; i++) {
      await Promise.all(Array.from({ length: 5 }, () => fetch(`http://127.0.0.1:${appPort}/`).catch(() => null)));
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(`${lg.url}/#/app/web`);
    const rollback = page.getByRole('button', { name: 'Roll back to last good' });
    await rollback.waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await page.screenshot({ path: path.join(shots, 'app.png'), fullPage: true });
    await rollback.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Plan' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'rollback-plan.png') });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const started = page.getByRole('status').filter({ hasText: 'started deployment' });
    await started.waitFor();
    const name = /started deployment (\S+)\./.exec(await started.innerText())[1];
    // Live, without a reload: the event stream brings the rollback's record and its steps.
    const live = page.locator('.deployment-record');
    await live.filter({ hasText: name }).filter({ hasText: 'Succeeded' }).waitFor({ timeout: 30000 });
    assert.ok(await live.locator('.steps li').count() > 0);

    await page.goto(`${lg.url}/#/history/web`);
    await page.locator('.tl-item').nth(2).waitFor({ timeout: 30000 });
    const newest = page.locator('.tl-item').first();
    assert.match(await newest.innerText(), /rollback/);
    assert.match(await newest.innerText(), /v1/);
    await newest.filter({ hasText: 'Succeeded' }).waitFor({ timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'history-after-rollback.png'), fullPage: true });
    await context.close();
  });

  test('a canary shows its analysis limits on the charts, and its automatic rollback is marked', async () => {
    const canary = path.join(lg.home, 'canary.yaml');
    writeFileSync(canary, readFileSync(path.join(repo, 'examples/canary.yaml'), 'utf8')
      .replace('../build/lastgood-sample', path.join(buildDir, 'lastgood-sample')));
    // Steady traffic through the router for as long as the test runs: the analysis judges it.
    let flowing = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (flowing) await fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text()).catch(() => null);
    });
    try {
      const { context, page } = await logIn('admin');
      await page.goto(`${lg.url}/#/app/web`);
      await page.getByRole('heading', { name: 'Traffic', exact: true }).waitFor();
      // A good canary (its analysis passes), so that production runs a manifest with limits.
      const good = await lg.cli(['apply', '-f', canary, '--param', 'label=v5', '--param', `port=${appPort}`,
        '--param', 'replicas=1']);
      assert.equal(good.code, 0, `the good canary failed:\n${good.stdout}\n${good.stderr}`);
      await page.reload();
      await page.locator('figcaption').filter({ hasText: 'Error rate (limit 1.00%)' }).waitFor();
      await page.locator('figcaption').filter({ hasText: 'p99 latency (ms) (limit 250)' }).waitFor();
      // A canary that fails half its requests: caught, rolled back, marked on the charts.
      const bad = await lg.cli(['apply', '-f', canary, '--param', 'label=v6', '--param', 'failRate=0.5',
        '--param', `port=${appPort}`, '--param', 'replicas=1']);
      assert.equal(bad.code, 1, `the bad canary was not failed:\n${bad.stdout}\n${bad.stderr}`);
      assert.match(bad.stdout, /analysis failed/);
      await page.reload();
      await page.locator('.chart [role=img][aria-label*="auto rollback"]').first().waitFor();
      await page.screenshot({ path: path.join(shots, 'app-canary-rolled-back.png'), fullPage: true });
      // The overview, read in the incident: what failed, when, and where it went back to.
      const badVersion = JSON.parse((await lg.cli(['versions', 'web', '-o', 'json'])).stdout).at(-1).version;
      await page.goto(`${lg.url}/#/`);
      const latest = page.locator('.card .latest').filter({
        hasText: new RegExp(`v${badVersion} failed at \\d\\d:\\d\\d, rolled back automatically to v\\d+`),
      });
      await latest.waitFor();
      await latest.getByRole('link').click();
      await page.getByRole('heading', { name: 'Operations' }).waitFor();
      assert.match(await page.locator('.facts').innerText(), new RegExp(`v${badVersion}`));
      await page.screenshot({ path: path.join(shots, 'apps-after-auto-rollback.png'), fullPage: true });
      await context.close();
    } finally {
      flowing = false;
      await Promise.all(loops);
    }
  });

  test('a canary under the sequential judge shows its running verdict and its tolerance on the charts', async () => {
    // A tolerance of half a point, so that passing takes long enough to be watched.
    const canary = path.join(lg.home, 'canary-sequential.yaml');
    writeFileSync(canary, readFileSync(path.join(repo, 'examples/canary-sequential.yaml'), 'utf8')
      .replace('../build/lastgood-sample', path.join(buildDir, 'lastgood-sample'))
      .replace('tolerance: { errorRate: 0.02, latency: 20% }', 'tolerance: { errorRate: 0.005 }'));
    let flowing = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (flowing) await fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text()).catch(() => null);
    });
    try {
      const { context, page } = await logIn('admin');
      await page.goto(`${lg.url}/#/app/web`);
      await page.getByRole('heading', { name: 'Traffic', exact: true }).waitFor();
      const started = await lg.cli(['apply', '-f', canary, '--param', 'label=v7', '--param', `port=${appPort}`,
        '--param', 'replicas=1', '--no-wait']);
      assert.equal(started.code, 0, `apply failed:\n${started.stdout}\n${started.stderr}`);
      // The running verdict: the judge's words and how far its evidence has come, live.
      const judge = page.locator('.judge').filter({ hasText: /canary \d+ of \d+ failed, stable \d+ of \d+/ });
      await judge.waitFor({ timeout: 30000 });
      await judge.locator('meter').first().waitFor();
      assert.match(await judge.innerText(), /toward failing/);
      await page.locator('figcaption').filter({ hasText: 'Error rate (tolerance: stable + 0.5 points)' }).waitFor();
      // A long-running step's bar stays within the page.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page is ${overflow}px wider than the window`);
      await page.screenshot({ path: path.join(shots, 'app-canary-judged.png'), fullPage: true });
      // Whatever the verdict, the deployment ends within its limit (window 30s + progressDeadline 30s).
      for (let i = 0; i < 150; i++) {
        const s = JSON.parse((await lg.cli(['status', 'web', '-o', 'json'])).stdout);
        if (!s.deployment) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await context.close();
    } finally {
      flowing = false;
      await Promise.all(loops);
    }
  });

  test('an admin sets a traffic share and swaps staging into production through the buttons', async () => {
    const staged = await lg.cli(['apply', '-f', manifest, '--slot', 'staging', '--param', 'label=s1',
      '--param', `port=${appPort}`, '--param', 'replicas=1']);
    assert.equal(staged.code, 0, `apply --slot staging failed:\n${staged.stdout}\n${staged.stderr}`);
    const staging = JSON.parse((await lg.cli(['status', 'web', '-o', 'json'])).stdout).slots.staging.version;
    const { context, page } = await logIn('admin');
    await page.goto(`${lg.url}/#/app/web`);
    const dialog = page.getByRole('dialog');

    await page.getByRole('button', { name: 'Set traffic' }).click();
    await dialog.getByText(/would send production's new clients: staging 10%/).waitFor();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'staging 10%' }).waitFor();
    let status = JSON.parse((await lg.cli(['status', 'web', '-o', 'json'])).stdout);
    assert.equal(status.slots.staging.weight, 10);

    await page.getByRole('button', { name: 'Swap', exact: true }).click();
    await dialog.getByRole('heading', { name: 'Plan' }).waitFor();
    assert.match(await dialog.locator('.plan-steps').innerText(), /warm up/);
    await page.screenshot({ path: path.join(shots, 'swap-plan.png') });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const started = page.getByRole('status').filter({ hasText: 'started deployment' });
    await started.waitFor();
    const name = /started deployment (\S+)\./.exec(await started.innerText())[1];
    await page.locator('.deployment-record').filter({ hasText: name }).filter({ hasText: 'Succeeded' })
      .waitFor({ timeout: 30000 });
    status = JSON.parse((await lg.cli(['status', 'web', '-o', 'json'])).stdout);
    assert.equal(status.slots.production.version, staging);
    const served = await fetch(`http://127.0.0.1:${appPort}/`, { headers: { Cookie: 'lastgood-slot=production' } });
    assert.match(await served.text(), /^s1/);
    await context.close();
  });

  test('the overview says where a rollback goes, not "last good" of a good running version', async () => {
    const { context, page } = await logIn('viewer');
    const status = JSON.parse((await lg.cli(['status', 'web', '-o', 'json'])).stdout);
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    const card = page.locator('.card').filter({ hasText: 'web' });
    await card.getByText(`Rollback goes to v${status.lastGood}`).waitFor();
    assert.equal(await page.getByText(/Last good/).count(), 0);
    await context.close();
  });

  test('every main view passes an accessibility audit (axe-core, WCAG 2 A and AA)', async () => {
    const axeSource = createRequire(path.join(repo, 'web', 'package.json')).resolve('axe-core/axe.min.js');
    const record = JSON.parse((await lg.cli(['history', 'web', '-o', 'json'])).stdout)[0].name;
    // The page's Content-Security-Policy forbids injected scripts, as it should; the audit's
    // own script is let in by the browser context, not by the page.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(await lg.loginUrl('admin'));
    const views = {
      apps: ['#/', '.card'],
      app: ['#/app/web', '.chart'],
      history: ['#/history/web', '.tl-item'],
      record: [`#/history/web/${record}`, '.steps li'],
      versions: ['#/versions/web', 'table'],
      code: ['#/versions/web/2', '.yaml .line'],
      diff: ['#/diff/web/1/2', 'table.diff'],
    };
    const found = [];
    for (const [name, [hash, ready]] of Object.entries(views)) {
      await page.goto(`${lg.url}/${hash}`);
      await page.locator(ready).first().waitFor();
      await page.addScriptTag({ path: axeSource });
      const violations = await page.evaluate(async () => {
        const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      });
      for (const v of violations) found.push(`${name}: ${v}`);
    }
    await context.close();
    assert.deepEqual(found, [], `accessibility violations:\n${found.join('\n')}`);
  });

  test('a viewer sees the app but no action buttons', async () => {
    const { context, page } = await logIn('viewer');
    await page.goto(`${lg.url}/#/app/web`);
    await page.getByRole('heading', { name: 'Slots' }).waitFor();
    await page.getByRole('heading', { name: 'Traffic' }).waitFor();
    assert.equal(await page.locator('.actions').count(), 0);
    assert.equal(await page.getByRole('button', { name: /roll|promote|swap|traffic|pause|resume|abort/i }).count(), 0);
    assert.match(await page.locator('.who').innerText(), /viewer/);
    await page.screenshot({ path: path.join(shots, 'viewer-app.png'), fullPage: true });
    await context.close();
  });

  test('the app view fits a phone screen', async () => {
    const { context, page } = await logIn('admin', { width: 390, height: 844 });
    await page.goto(`${lg.url}/#/app/web`);
    await page.getByRole('button', { name: 'Roll back to last good' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: path.join(shots, 'phone-app.png'), fullPage: true });
    await context.close();
  });
});
