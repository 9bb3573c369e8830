// Headless-Chromium test of the public web pages (/p/): the board on a phone, the supervision
// form (a server-side validation error, then a real message), the thank-you page, and the
// printable A3 board. See docs/browser-tests.md.
//
//   node .ci/browser/pages.mjs http://127.0.0.1:8080 ci-artifacts/browser
//
// Environment (optional):
//   CHROMIUM       the browser to drive (default /usr/bin/chromium, Debian's package; Playwright's
//                  own downloaded browsers are never used)
//   BROWSER_YEAR   the board's year (default 2017, the demo town's)
//   BROWSER_BRANCH the branch whose board is opened (default 大洼社区党支部, which has approved
//                  pledges in the demo)
//
// Prints one line per step; exits 1 when an assertion fails or when the site's pages logged a
// console error, threw, or a request to the site's own origin failed.
import { mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [baseArg, outArg] = process.argv.slice(2);
if (!baseArg || !outArg) {
  console.error('usage: node pages.mjs BASE_URL OUTPUT_DIR');
  process.exit(2);
}
const BASE = baseArg.replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const OUT = path.resolve(outArg);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const YEAR = process.env.BROWSER_YEAR || '2017';
const BRANCH = process.env.BROWSER_BRANCH || '大洼社区党支部';

// A3 portrait, 297 × 420 mm, in CSS pixels at 96 dpi.
const A3 = { width: Math.round((297 / 25.4) * 96), height: Math.round((420 / 25.4) * 96) };
const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const problems = []; // console errors, page errors, failed requests, unexpected HTTP errors
const failures = []; // failed assertions, one per step at most
const started = Date.now();

class AssertionError extends Error {}
function check(condition, message) {
  if (!condition) throw new AssertionError(message);
}
const ownOrigin = (url) => {
  try {
    return new URL(url).origin === ORIGIN;
  } catch {
    return false;
  }
};

// Every page of every context reports into `problems`, tagged with the step it happened in.
let currentStep = 'setup';
// HTTP errors the running step expects, e.g. the 422 of a refused message:
// { method, suffix (of the path), statuses }. Reset after every step.
let expectedErrors = [];
const isExpected = (url, status, method) =>
  expectedErrors.some(
    (e) => (!method || e.method === method) && new URL(url).pathname.endsWith(e.suffix) && e.statuses.includes(status),
  );
// Tolerated, reported as notes but not failures: { suffix (the whole path), statuses }. Empty:
// the pages declare an empty icon (`<link rel="icon" href="data:,">`), so Chromium does not ask
// for /favicon.ico.
const TOLERATED = [];
const isTolerated = (url, status) =>
  TOLERATED.some((t) => new URL(url).pathname === t.suffix && t.statuses.includes(status));
const notes = new Set();
const statusOf = (text) => Number((/status of (\d{3})/.exec(text) || [])[1]);

function watch(page) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location()?.url || '';
    // Chromium logs every 4xx/5xx it loads as a console error; the expected and tolerated ones
    // are not problems (the responses themselves are checked below).
    if (ownOrigin(url) && msg.text().startsWith('Failed to load resource')) {
      const status = statusOf(msg.text());
      if (isExpected(url, status)) return;
      if (isTolerated(url, status)) {
        notes.add(`HTTP ${status}: ${new URL(url).pathname} (tolerated, see TOLERATED in pages.mjs)`);
        return;
      }
    }
    problems.push(`[${currentStep}] console error: ${msg.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`[${currentStep}] page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (ownOrigin(req.url())) {
      problems.push(`[${currentStep}] request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
    }
  });
  page.on('response', (res) => {
    if (!ownOrigin(res.url()) || res.status() < 400) return;
    const method = res.request().method();
    if (isExpected(res.url(), res.status(), method)) return;
    if (isTolerated(res.url(), res.status())) {
      notes.add(`HTTP ${res.status()}: ${new URL(res.url()).pathname} (tolerated, see TOLERATED in pages.mjs)`);
      return;
    }
    problems.push(`[${currentStep}] HTTP ${res.status()}: ${method} ${res.url()}`);
  });
}

async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  try {
    const detail = await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)${detail ? `: ${detail}` : ''}`);
    return true;
  } catch (err) {
    const message = err instanceof AssertionError ? err.message : err.stack || String(err);
    failures.push(`${name}: ${message}`);
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${message}`);
    return false;
  } finally {
    expectedErrors = [];
  }
}

// The elements sticking out past the viewport's right edge, for the failure message.
async function overflow(page, width) {
  return page.evaluate((w) => {
    const sw = document.documentElement.scrollWidth;
    if (sw <= w) return null;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 0.5 && wide.length < 5) {
        const cls = el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        wide.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls} (right edge ${Math.round(r.right)} px)`);
      }
    }
    return `scrollWidth ${sw} > ${w}; widest: ${wide.join(', ') || '?'}`;
  }, width);
}

async function main() {
  check(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (Debian: apt-get install chromium)`);
  await mkdir(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  console.log(`     ${browser.version()} (${CHROMIUM}) against ${BASE}, screenshots in ${OUT}`);
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function run(browser) {
  let branchId;
  const directoryOk = await step('directory: find the branch', async () => {
    const res = await fetch(`${BASE}/api/v1/public/orgs?q=${encodeURIComponent(BRANCH)}`);
    check(res.status === 200, `GET /api/v1/public/orgs answered ${res.status}`);
    const body = await res.json();
    check(Array.isArray(body.items), 'the directory has no items array');
    const branch = body.items.find((o) => o.kind === 'branch' && o.name === BRANCH);
    check(branch, `no branch named ${BRANCH} in ${JSON.stringify(body.items.map((o) => [o.kind, o.name]))}`);
    branchId = branch.id;
    return `${BRANCH} = ${branchId}`;
  });
  if (!directoryOk) return;
  const boardPath = `/p/orgs/${branchId}/board?year=${YEAR}`;

  // --- on a phone: board, form, validation error, message, thanks ---------------------------
  const phone = await browser.newContext({ ...PHONE, locale: 'zh-CN' });
  const page = await phone.newPage();
  watch(page);

  const boardOk = await step(`board at 360 px: ${boardPath}`, async () => {
    const res = await page.goto(BASE + boardPath);
    check(res && res.status() === 200, `status ${res && res.status()}`);
    const h1 = (await page.locator('h1').first().textContent()) || '';
    check(h1.includes(BRANCH), `<h1> is "${h1}", not the branch's name`);
    const links = await page.locator('a.feedback-link').count();
    check(links >= 1, 'no a.feedback-link on the board');
    const wide = await overflow(page, PHONE.viewport.width);
    await page.screenshot({ path: path.join(OUT, 'board-360.png'), fullPage: true });
    check(!wide, `horizontal overflow: ${wide}`);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    // What a phone loads for the page (compressed, as sent): the issue's budget is 100 KB.
    const { responseBodySize } = await res.request().sizes();
    check(responseBodySize < 100_000, `the page is ${responseBodySize} bytes on the wire (budget 100 KB)`);
    const decoded = (await res.body()).length;
    check(decoded < 100_000, `the page is ${decoded} bytes before compression (budget 100 KB)`);
    return `h1 "${h1.trim()}", ${links} feedback links, ${height} px tall, ${responseBodySize} bytes on the wire (${decoded} decoded)`;
  });

  let feedbackUrl;
  const formOk =
    boardOk &&
    (await step('feedback form at 360 px (first 我要监督)', async () => {
      const link = page.locator('a.feedback-link').first();
      const href = await link.getAttribute('href');
      check(/^\/p\/pledges\/[^/]+\/feedback$/.test(href || ''), `a.feedback-link goes to ${href}`);
      const [res] = await Promise.all([page.waitForNavigation(), link.tap()]);
      check(res && res.status() === 200, `status ${res && res.status()}`);
      feedbackUrl = page.url();
      check(new URL(feedbackUrl).pathname === href, `landed on ${feedbackUrl}, not ${href}`);
      for (const sel of ['#feedback-form', 'textarea#message', 'input#name', 'input#phone', 'button#submit']) {
        check(await page.locator(sel).isVisible(), `${sel} is not visible`);
      }
      check((await page.locator('#feedback-form input[type=hidden]').count()) >= 1, 'the form has no hidden token field');
      const cookies = await phone.cookies(feedbackUrl);
      check(cookies.length >= 1, 'the form page set no cookie');
      const wide = await overflow(page, PHONE.viewport.width);
      await page.screenshot({ path: path.join(OUT, 'feedback-form-360.png'), fullPage: true });
      check(!wide, `horizontal overflow: ${wide}`);
      return `${href}, cookie ${cookies.map((c) => `${c.name} (SameSite=${c.sameSite})`).join(', ')}`;
    }));

  const errorOk =
    formOk &&
    (await step('blank message: the server sends the form back with div.errors', async () => {
      // Spaces satisfy HTML5 `required`, so the browser sends them and the server must refuse.
      expectedErrors = [{ method: 'POST', suffix: '/feedback', statuses: [400, 422] }];
      await page.locator('textarea#message').fill('   ');
      const [res] = await Promise.all([page.waitForNavigation(), page.locator('button#submit').tap()]);
      check(res && res.request().method() === 'POST', `the submit did not POST (${res && res.request().method()})`);
      check(res.status() !== 303 && !page.url().endsWith('/thanks'), 'a blank message was accepted');
      check(await page.locator('div.errors').isVisible(), 'no div.errors on the page');
      check(await page.locator('#feedback-form').isVisible(), 'the form is not shown again');
      const text = ((await page.locator('div.errors').textContent()) || '').trim();
      check(text.length > 0, 'div.errors is empty');
      await page.screenshot({ path: path.join(OUT, 'feedback-errors-360.png'), fullPage: true });
      return `HTTP ${res.status()}, "${text}"`;
    }));

  if (errorOk) {
    await step('real message: 303 to the thank-you page', async () => {
      await page.locator('textarea#message').fill('路灯还没修好，请尽快处理。');
      await page.locator('input#name').fill('张先生');
      await page.locator('input#phone').fill('13800138000');
      const [res] = await Promise.all([page.waitForNavigation(), page.locator('button#submit').tap()]);
      check(res && res.status() === 200, `the thank-you page answered ${res && res.status()}`);
      const post = res.request().redirectedFrom();
      check(post && post.method() === 'POST', 'the thank-you page was not reached through a redirect from the POST');
      const postRes = await post.response();
      check(postRes && postRes.status() === 303, `the POST answered ${postRes && postRes.status()}, not 303`);
      check(page.url() === `${feedbackUrl}/thanks`, `landed on ${page.url()}, not ${feedbackUrl}/thanks`);
      const thanks = page.locator('h1#thanks');
      check(await thanks.isVisible(), 'no h1#thanks');
      const text = ((await thanks.textContent()) || '').trim();
      check(text.includes('感谢您的监督'), `h1#thanks says "${text}"`);
      const wide = await overflow(page, PHONE.viewport.width);
      await page.screenshot({ path: path.join(OUT, 'thanks-360.png'), fullPage: true });
      check(!wide, `horizontal overflow: ${wide}`);
      return `POST 303 → ${new URL(page.url()).pathname}, "${text}"`;
    });
  }
  await phone.close();

  // --- the printable board, as the print dialog would lay it out on A3 ---------------------
  const printPath = `/p/orgs/${branchId}/board/print?year=${YEAR}`;
  const desk = await browser.newContext({ viewport: A3, deviceScaleFactor: 1, locale: 'zh-CN' });
  const print = await desk.newPage();
  watch(print);
  await print.emulateMedia({ media: 'print' });
  await step(`print board on A3 (${A3.width}×${A3.height} px): ${printPath}`, async () => {
    const res = await print.goto(BASE + printPath);
    check(res && res.status() === 200, `status ${res && res.status()}`);
    check(await print.locator('body.print').count() === 1, 'no body.print');
    const h1 = (await print.locator('h1').first().textContent()) || '';
    check(h1.includes(BRANCH), `<h1> is "${h1}", not the branch's name`);
    const svg = print.locator('svg').first();
    check(await svg.count() === 1, 'no inline SVG (QR code) on the page');
    check(await svg.isVisible(), 'the QR code is not visible');
    const box = await svg.boundingBox();
    check(box && box.width >= 100 && Math.abs(box.width - box.height) < 1, `the QR code is ${box && `${box.width}×${box.height}`} px`);
    check(box.x >= 0 && box.x + box.width <= A3.width, `the QR code lies outside the page (x ${box.x}, width ${box.width})`);
    const wide = await overflow(print, A3.width);
    await print.screenshot({ path: path.join(OUT, 'print-a3.png'), fullPage: true });
    check(!wide, `horizontal overflow: ${wide}`);
    const pdfPath = path.join(OUT, 'print-a3.pdf');
    const pdf = await print.pdf({ path: pdfPath, format: 'A3', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    check(pages >= 1, 'the PDF has no page');
    const mm = (px) => Math.round((px * 25.4) / 96);
    return `QR ${Math.round(box.width)} px (${mm(box.width)} mm) at x ${Math.round(box.x)}, y ${Math.round(box.y)}; PDF ${pages} page(s), ${Math.round(statSync(pdfPath).size / 1024)} KiB`;
  });
  await desk.close();
}

try {
  await main();
} catch (err) {
  failures.push(`setup: ${err instanceof AssertionError ? err.message : err.stack || err}`);
}
const took = ((Date.now() - started) / 1000).toFixed(1);
for (const n of notes) console.log(`note ${n}`);
if (problems.length) {
  console.log(`FAIL the pages logged ${problems.length} error(s):`);
  for (const p of problems) console.log(`     ${p}`);
}
if (failures.length || problems.length) {
  console.log(`browser test: FAILED in ${took} s (${failures.length} failed step(s), ${problems.length} page error(s))`);
  process.exit(1);
}
console.log(`browser test: passed in ${took} s`);
