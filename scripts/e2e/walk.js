// Vecinal in a real browser: every audience's pages, as people reach them, at a desktop
// width and on a phone, and the resident's journey once more with JavaScript off. Started
// by scripts/e2e/run, which builds and starts the server and passes its address here.
//
// Each page reached is checked by `check` (see below): it must be where the step expects
// (path and status), pass axe-core's WCAG 2.1 A and AA rules, be no wider than the window,
// and log no console error; a screenshot is saved either way. A new page is one more
// `await s.check('name', { path: /…/ })` after the step that reaches it.
'use strict';

const { chromium } = require('playwright-core');
const AxeBuilder = require('@axe-core/playwright').default || require('@axe-core/playwright');
const fs = require('fs');
const path = require('path');
const fixtures = require('./fixtures');

const BASE = process.env.E2E_BASE;
const DATA = process.env.E2E_DATA; // the server's data folder: mails are files in mail/
const SHOTS = process.env.E2E_SHOTS;
const FILES = process.env.E2E_FILES;
const OFFICER_PASSWORD = process.env.E2E_OFFICER_PASSWORD;
const COMMISSIONER_PASSWORD = process.env.E2E_COMMISSIONER_PASSWORD;
const PASSES = (process.env.E2E_PASSES || 'desktop,phone,nojs').split(',');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const RESIDENT_PASSWORD = 'glaciar tortuga bandoneón mate';
const STAFF_PASSWORD = 'faro costanera ushuaia 2026';
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const failures = [];
let pagesChecked = 0;

function fail(where, what) {
  failures.push(`${where}: ${what}`);
  console.log(`  FAIL ${where}: ${what}`);
}

// ----- one person's browser ---------------------------------------------------------------

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

class Session {
  constructor(pass, who, context, page, checker) {
    this.pass = pass;
    this.checker = checker;
    this.who = who;
    this.context = context;
    this.page = page;
    this.consoleErrors = [];
    this.lastStatus = 0;
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(`${m.text()} (${m.location().url || page.url()})`);
    });
    page.on('pageerror', (e) => this.consoleErrors.push(`uncaught: ${e.message}`));
    page.on('response', (r) => {
      if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) this.lastStatus = r.status();
    });
  }

  static async open(browser, pass, who, { width = pass, js = true, lang = 'es-AR' } = {}) {
    const context = await browser.newContext({
      ...VIEWPORTS[width],
      javaScriptEnabled: js,
      locale: lang,
      extraHTTPHeaders: { 'Accept-Language': lang },
      acceptDownloads: true,
    });
    // axe-core runs in the page, so a page without JavaScript is checked in a second page
    // with it, which is given the very HTML the first one shows, at the same address.
    const checker = js ? null : await (await browser.newContext({ ...VIEWPORTS[width], locale: lang })).newPage();
    return new Session(pass, who, context, await context.newPage(), checker);
  }

  where(name) {
    return `${this.pass}/${this.who}/${name}`;
  }

  async goto(pathname) {
    await this.page.goto(BASE + pathname);
  }

  // Checks the page the browser shows now. `path`: a string or RegExp the path (and query)
  // must match; `status`: the HTTP status of the last page load (200 unless said).
  async check(name, { path: expected, status = 200 } = {}) {
    const page = this.page;
    const where = this.where(name);
    pagesChecked += 1;
    await page.waitForLoadState('load');
    const url = new URL(page.url());
    const at = url.pathname + url.search;
    const shot = path.join(SHOTS, `${this.pass}-${String(pagesChecked).padStart(3, '0')}-${this.who}-${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    if (expected !== undefined) {
      const ok = expected instanceof RegExp ? expected.test(at) : at === expected;
      if (!ok) throw new Error(`${where}: landed on ${at} (status ${this.lastStatus}), expected ${expected}`);
    }
    if (status !== null && this.lastStatus !== status) {
      fail(where, `status ${this.lastStatus}, expected ${status} (${at})`);
    }
    let checked = page;
    if (this.checker) {
      checked = this.checker;
      const html = await page.content();
      const target = page.url();
      await checked.unrouteAll();
      await checked.route(
        (u) => u.href === target,
        (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
      );
      // The page's own script stays off: what is checked is what the visitor without it sees.
      await checked.route(/\.js$/, (route) => route.abort());
      await checked.goto(target);
    }
    const results = await new AxeBuilder({ page: checked }).withTags(WCAG).analyze();
    for (const v of results.violations) {
      const nodes = v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ');
      fail(where, `axe ${v.id} (${v.impact}): ${v.help} — ${nodes}`);
    }
    const width = await checked.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: window.innerWidth,
    }));
    if (width.page > width.window) fail(where, `page is ${width.page}px wide in a ${width.window}px window`);
    // Nothing may run out of its box either (a long e-mail address in a card, say).
    const spill = await checked.evaluate(() =>
      Array.from(document.querySelectorAll('.card, .narrow, .hero, .member-card, .receipt, section.note'))
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className.replace(/ /g, '.')} (${e.scrollWidth}px in ${e.clientWidth}px)`),
    );
    for (const box of spill) fail(where, `content runs out of ${box}`);
    for (const e of this.consoleErrors.splice(0)) {
      // Chromium logs an error status of the page itself; the step expected that status.
      const own = /^Failed to load resource: the server responded with a status of (\d+)/.exec(e);
      if (own && Number(own[1]) === this.lastStatus && e.endsWith(`(${page.url()})`)) continue;
      fail(where, `console error: ${e}`);
    }
    console.log(`  ok ${where} ${at}`);
  }

  async fill(fields) {
    for (const [selector, value] of Object.entries(fields)) await this.page.fill(selector, value);
  }

  // Submits the form whose action ends with `action`, with its (first) submit button, and
  // waits for the page the answer leads to.
  async submit(action, { to } = {}) {
    const form = `form[action$="${action}"], form[action^="${action}"]`;
    const button = this.page.locator(form).locator('button[type=submit]').first();
    await Promise.all([this.page.waitForNavigation({ url: to ? (u) => matches(u, to) : undefined }), button.click()]);
  }

  async signIn(email, password, home) {
    await this.goto('/login');
    await this.fill({ '#email': email, '#password': password });
    await this.submit('/login', { to: home });
  }

  // Fetches `pathname` with this person's cookies, as a download link would.
  async download(pathname) {
    const res = await this.page.request.get(BASE + pathname);
    return { status: res.status(), type: res.headers()['content-type'] || '', body: await res.body() };
  }

  async close() {
    await this.context.close();
    if (this.checker) await this.checker.context().close();
  }
}

function matches(url, pattern) {
  const u = new URL(url);
  const at = u.pathname + u.search;
  return pattern instanceof RegExp ? pattern.test(at) : at === pattern;
}

// The last link starting with `prefix` in a mail to `to` (mails are .eml files).
async function mailLink(to, prefix) {
  const dir = path.join(DATA, 'mail');
  // The server's mail worker writes due mails every 5 seconds.
  for (let i = 0; i < 150; i++) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
    files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (!text.includes(to)) continue;
      const m = text.match(new RegExp(BASE.replace(/[.]/g, '\\.') + prefix + '[A-Za-z0-9_-]+'));
      if (m) return m[0].slice(BASE.length);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with a link ${prefix}`);
}

// The id in the current path after `prefix` ("/applications/" → the application's id).
function idAfter(page, prefix) {
  const p = new URL(page.url()).pathname;
  return p.slice(p.indexOf(prefix) + prefix.length).split('/')[0];
}

// Today's date in the service's zone (VECINAL_TIME_ZONE, whose default the walk runs
// with), as the certificate field wants it: YYYY-MM-DD.
function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Argentina/Ushuaia' }).format(new Date());
}

// ----- the journeys -----------------------------------------------------------------------

async function visitor(s) {
  await s.goto('/');
  await s.check('landing', { path: '/' });
  await s.goto('/privacy');
  await s.check('privacy', { path: '/privacy' });
  await s.goto('/login');
  await s.check('login', { path: '/login' });
  await s.goto('/password/forgot');
  await s.check('password-forgot', { path: '/password/forgot' });
  await s.goto('/verify/not-a-real-token');
  await s.check('verify-unknown', { path: '/verify/not-a-real-token', status: 404 });
  await s.goto('/no-such-page/with-a-long-name');
  await s.check('not-found', { path: '/no-such-page/with-a-long-name', status: 404 });
}

async function registerAndSignIn(s, email, name) {
  await s.goto('/register');
  await s.check('register', { path: '/register' });
  await s.fill({ '#full_name': name, '#email': email, '#password': RESIDENT_PASSWORD });
  await s.submit('/register', { to: '/register/sent' });
  await s.check('register-sent', { path: '/register/sent' });
  await s.goto(await mailLink(email, '/email/confirm/'));
  await s.check('confirm', { path: /^\/email\/confirm\// });
  await s.submit('/email/confirm/', { to: /^\/login/ });
  await s.check('confirmed', { path: /^\/login/ });
  await s.fill({ '#email': email, '#password': RESIDENT_PASSWORD });
  await s.submit('/login', { to: '/me' });
  await s.check('me', { path: '/me' });
}

async function fillApplication(s, { photo }) {
  await s.fill({ '#street_address': 'Belgrano 1234', '#dni': '30.123.456', '#certificate_issued_on': localToday() });
  await s.page.setInputFiles('#residency_proof', path.join(FILES, 'factura.pdf'));
  await s.page.setInputFiles('#criminal_record', path.join(FILES, photo));
  await s.page.setInputFiles('#identity_document', path.join(FILES, 'dni.png'));
  await s.page.check('input[name=consent]');
}

// The enhanced form: checks at once, the photo reduced, a network failure and a form
// mistake survived, the progress bar to 100 %. Returns the application's id.
async function applyWithScript(s, group, { throttle }) {
  const page = s.page;
  await s.goto(`/applications/new?group=${group}`);
  await page.waitForSelector('form[data-upload-ready]');
  await s.check('apply', { path: `/applications/new?group=${group}` });
  const texts = await page.$eval('form[data-upload]', (f) => ({ ...f.dataset }));

  // A file that is not what its name says is refused next to its field, before sending.
  await page.setInputFiles('#residency_proof', path.join(FILES, 'not-a-pdf.pdf'));
  await page.waitForSelector('#residency_proof[aria-invalid=true]');
  const note = await page.textContent('#residency_proof-note');
  if (note !== texts.msgBadType) fail(s.where('apply'), `wrong-type note says ${JSON.stringify(note)}`);
  await s.check('apply-wrong-type', { path: `/applications/new?group=${group}` });

  // The 6 MB photo is made small in the browser and the page says by how much.
  await fillApplication(s, { photo: 'camera.jpg' });
  await page.waitForSelector('#criminal_record-note.reduced', { timeout: 20000 });
  const reduced = await page.textContent('#criminal_record-note');
  const expected = s.pass === 'desktop' || s.pass === 'phone' ? /^Foto reducida de 6,\d MB a [01],\d MB\.$/ : /./;
  if (!expected.test(reduced)) fail(s.where('apply'), `reduction note says ${JSON.stringify(reduced)}`);
  if (await page.getAttribute('#residency_proof', 'aria-invalid')) fail(s.where('apply'), 'the PDF chosen after the wrong file is still marked wrong');
  await s.check('apply-reduced', { path: `/applications/new?group=${group}` });

  // The network fails: the form stays filled and says so.
  await page.route('**/applications', (route) => route.abort('internetdisconnected'), { times: 1 });
  await page.click('form[data-upload] button[type=submit]');
  await page.waitForSelector('.upload-status.field-error');
  if ((await page.textContent('.upload-status')) !== texts.msgFailed) fail(s.where('apply'), 'no network failure message');
  if ((await page.inputValue('#street_address')) !== 'Belgrano 1234') fail(s.where('apply'), 'the form lost its address');
  s.consoleErrors = s.consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e));
  await s.check('apply-offline', { path: `/applications/new?group=${group}` });

  // A form mistake: the server's 422 form replaces the page, as without the script, and
  // the new form is enhanced again.
  await page.uncheck('input[name=consent]');
  await page.click('form[data-upload] button[type=submit]');
  await page.waitForSelector('.error-summary');
  await page.waitForSelector('form[data-upload-ready]');
  s.lastStatus = 422;
  // The script's request got the 422 the server answers a form mistake with, by design.
  s.consoleErrors = s.consoleErrors.filter((e) => !(/status of 422/.test(e) && e.endsWith(`(${BASE}/applications)`)));
  await s.check('apply-mistake', { path: `/applications/new?group=${group}`, status: 422 });

  // Sent for real, slowly enough to see the bar.
  await fillApplication(s, { photo: 'camera.jpg' });
  await page.waitForSelector('#criminal_record-note.reduced', { timeout: 20000 });
  await page.evaluate(() => {
    // The size of the body the script sends, as its upload reports it.
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (body) {
      this.upload.addEventListener('progress', (e) => { window.__sent = e.total; });
      return send.call(this, body);
    };
    window.__progress = [];
    const seen = () => document.querySelectorAll('progress').forEach((p) => window.__progress.push(p.value));
    new MutationObserver(seen).observe(document, { subtree: true, attributes: true, attributeFilter: ['value'] });
  });
  const cdp = throttle ? await s.context.newCDPSession(page) : null;
  if (cdp) {
    // 1.6 Mbit/s up, 4 Mbit/s down, 150 ms: a phone on a weak mobile connection.
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      uploadThroughput: 200000,
      downloadThroughput: 500000,
    });
  }
  if (cdp) {
    // Cancelled half-way (slower still, so the cancel surely comes first): the form stays.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, uploadThroughput: 20000, downloadThroughput: 500000 });
    await page.click('form[data-upload] button[type=submit]');
    await page.waitForSelector('.upload-progress:not([hidden])');
    await page.click('.upload-progress button');
    await page.waitForSelector('.upload-progress', { state: 'hidden' });
    if ((await page.textContent('.upload-status')) !== texts.msgCancelled) fail(s.where('apply'), 'no cancel message');
    if ((await page.inputValue('#dni')) !== '30.123.456') fail(s.where('apply'), 'the form lost its DNI on cancel');
    await s.check('apply-cancelled', { path: `/applications/new?group=${group}`, status: 422 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, uploadThroughput: 200000, downloadThroughput: 500000 });
  }
  const started = Date.now();
  await page.click('form[data-upload] button[type=submit]');
  if (throttle) {
    await page.waitForSelector('.upload-progress:not([hidden])');
    await s.check('apply-sending', { path: `/applications/new?group=${group}`, status: 422 });
  }
  await page.waitForURL(/\/applications\/[0-9a-f-]+$/, { timeout: 120000 });
  const seconds = (Date.now() - started) / 1000;
  const sentBytes = await page.evaluate(() => window.__sent);
  if (cdp) await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
  const progress = await page.evaluate(() => window.__progress);
  if (Math.max(0, ...progress) !== 100) fail(s.where('apply'), `the progress bar went to ${Math.max(0, ...progress)}, not 100`);
  console.log(`  sent ${sentBytes} bytes in ${seconds.toFixed(1)} s${throttle ? ' at 1.6 Mbit/s' : ''}; progress values ${[...new Set(progress)].join(' ')}`);
  s.lastStatus = 200;
  await s.check('application', { path: /^\/applications\/[0-9a-f-]+$/ });
  const id = idAfter(page, '/applications/');

  // On the server: the stored photo is the reduced one, upright (the camera held the phone
  // in portrait: a 4000×3000 picture with EXIF orientation 6).
  const link = await page.getAttribute('a[href*="/documents/"]:has-text(".jpg")', 'href');
  const doc = await s.download(link);
  const size = fixtures.jpegSize(doc.body);
  if (doc.type !== 'image/jpeg' || doc.body.length > 2 * 1024 * 1024 || !size || size.width !== 1500 || size.height !== 2000) {
    fail(s.where('application'), `stored photo: ${doc.type}, ${doc.body.length} bytes, ${JSON.stringify(size)}; expected a 1500×2000 JPEG under 2 MB`);
  }
  return id;
}

// The same journey with JavaScript off: the plain form, its 422 and its 303.
async function applyWithoutScript(s, group) {
  await s.goto(`/applications/new?group=${group}`);
  await s.check('apply', { path: `/applications/new?group=${group}` });
  await fillApplication(s, { photo: 'small.jpg' });
  await s.page.uncheck('input[name=consent]');
  await s.submit('/applications', { to: '/applications' });
  await s.check('apply-mistake', { path: '/applications', status: 422 });
  await fillApplication(s, { photo: 'small.jpg' });
  await s.submit('/applications', { to: /^\/applications\/[0-9a-f-]+$/ });
  await s.check('application', { path: /^\/applications\/[0-9a-f-]+$/ });
  return idAfter(s.page, '/applications/');
}

async function review(o, id, name) {
  await o.goto(`/officer/applications/${id}`);
  await o.check(name, { path: `/officer/applications/${id}` });
}

async function claim(o, id) {
  await o.submit(`/officer/applications/${id}/claim`, { to: `/officer/applications/${id}` });
}

async function approve(o, id) {
  for (const n of ['check_address', 'check_identity', 'check_certificate_date', 'check_no_record']) {
    await o.page.check(`input[name=${n}]`);
  }
  await o.submit(`/officer/applications/${id}/approve`, { to: /^\/officer/ });
}

async function fullPass(browser, pass) {
  // A long address, as some people have: it must wrap wherever it is shown.
  const email = `juana.maria.de.los.angeles.${pass}@barrio-chacra-ii.rio-grande.example.org`;
  const v = await Session.open(browser, pass, 'visitor');
  await visitor(v);
  await v.close();

  const r = await Session.open(browser, pass, 'resident');
  await registerAndSignIn(r, email, 'Juana Pérez');
  const id = await applyWithScript(r, 'chacra-ii', { throttle: pass === 'phone' });

  // The officer: queue, review, claim, release, claim again, ask for a new certificate.
  const o = await Session.open(browser, pass, 'officer');
  await o.signIn('oficial.demo@example.org', OFFICER_PASSWORD, '/officer');
  await o.check('queue', { path: '/officer' });
  await o.goto('/officer?status=submitted');
  await o.check('queue-filtered', { path: '/officer?status=submitted' });
  await review(o, id, 'review');
  await claim(o, id);
  await o.check('review-claimed', { path: `/officer/applications/${id}` });
  await o.submit(`/officer/applications/${id}/release`, { to: /^\/officer/ });
  await o.check('released', { path: /^\/officer/ });
  await review(o, id, 'review-again');
  await claim(o, id);
  await o.page.click('summary:below(form[action$="/approve"])');
  await o.fill({ '#message': 'El certificado se ve borroso: mandá una foto nueva, por favor.' });
  await o.page.check('input[name=kinds][value=criminal_record]');
  await o.submit(`/officer/applications/${id}/request-info`, { to: /^\/officer/ });
  await o.check('info-requested', { path: /^\/officer/ });

  // The resident answers with the enhanced form.
  await r.goto(`/applications/${id}`);
  await r.page.waitForSelector('form[data-upload-ready]');
  await r.check('needs-info', { path: `/applications/${id}` });
  await r.fill({ '#message': 'Va una foto nueva.' });
  await r.page.setInputFiles('#criminal_record', path.join(FILES, 'camera.jpg'));
  await r.page.waitForSelector('#criminal_record-note.reduced', { timeout: 20000 });
  await r.page.click('form[data-upload] button[type=submit]');
  await r.page.waitForURL(`${BASE}/applications/${id}`);
  await r.page.waitForSelector('.flash');
  await r.check('answered', { path: `/applications/${id}` });

  // Approved; the resident's card, its public check, the account and its export.
  await review(o, id, 'review-answered');
  await claim(o, id);
  await approve(o, id);
  await o.check('approved', { path: /^\/officer/ });
  await r.goto('/me');
  await r.check('me-member', { path: '/me' });
  await r.page.click('a[href^="/memberships/"]');
  await r.check('card', { path: /^\/memberships\/[0-9a-f-]+$/ });
  const membership = idAfter(r.page, '/memberships/');
  const verify = new URL(await r.page.getAttribute('.verify-link a', 'href'));
  await r.goto(verify.pathname);
  await r.check('verify', { path: verify.pathname });
  await r.goto('/account');
  await r.check('account', { path: '/account' });
  const exported = await r.download('/account/export');
  if (exported.status !== 200 || !/json/.test(exported.type) || !exported.body.toString().includes(email)) {
    fail(r.where('export'), `export: ${exported.status} ${exported.type}`);
  }

  // A second application, to the group with two approvals, rejected; a third approved by
  // two officers (the second one invited by the commissioner below).
  const second = await applySimply(r, 'chacra-iv');
  await review(o, second, 'review-to-reject');
  await claim(o, second);
  await o.page.click('details:has(form[action$="/reject"]) summary');
  await o.check('reject-form', { path: `/officer/applications/${second}` });
  await o.page.selectOption('#reason_code', { index: 1 });
  await o.submit(`/officer/applications/${second}/reject`, { to: /^\/officer/ });
  await o.check('rejected', { path: /^\/officer/ });
  const third = await applySimply(r, 'centro');
  await review(o, third, 'review-two-approvals');
  await claim(o, third);
  await approve(o, third);
  await review(o, third, 'awaiting-second');

  // Memberships: the list, one, suspended (so on the removal list), marked removed, back.
  await o.goto('/officer/memberships');
  await o.check('members', { path: '/officer/memberships' });
  await o.goto(`/officer/memberships?q=${encodeURIComponent('Juana')}`);
  await o.check('members-search', { path: /^\/officer\/memberships\?q=/ });
  await o.goto(`/officer/memberships/${membership}`);
  await o.check('member', { path: `/officer/memberships/${membership}` });
  await o.fill({ '#suspend-reason': 'Mensajes agresivos en el grupo.' });
  await o.submit(`/memberships/${membership}/suspend`, { to: /^\/officer\/memberships/ });
  await o.check('suspended', { path: /^\/officer\/memberships/ });
  await o.goto('/officer/removals');
  await o.check('removals', { path: '/officer/removals' });
  await o.submit(`/removals/${membership}/done`, { to: /^\/officer\/removals/ });
  await o.check('removal-done', { path: /^\/officer\/removals/ });
  await o.goto(`/officer/memberships/${membership}`);
  await o.submit(`/memberships/${membership}/reinstate`, { to: /^\/officer\/memberships/ });
  await o.check('reinstated', { path: /^\/officer\/memberships/ });
  await o.goto('/account');
  await o.check('account', { path: '/account' });

  // The commissioner, in English: every page of theirs, an invitation, the exports.
  const c = await Session.open(browser, pass, 'commissioner', { lang: 'en' });
  await c.signIn('comisario.demo@example.org', COMMISSIONER_PASSWORD, '/commissioner');
  await c.check('dashboard', { path: '/commissioner' });
  await c.goto('/commissioner?days=365');
  await c.check('dashboard-year', { path: '/commissioner?days=365' });
  await c.goto('/commissioner/groups');
  await c.check('groups', { path: '/commissioner/groups' });
  await c.goto('/commissioner/groups/new');
  await c.check('group-new', { path: '/commissioner/groups/new' });
  await c.goto('/commissioner/groups/centro');
  await c.check('group', { path: '/commissioner/groups/centro' });
  await c.goto('/commissioner/staff');
  await c.check('staff', { path: '/commissioner/staff' });
  const second_officer = `segunda.${pass}@example.org`;
  await c.fill({ '#full_name': 'Segunda Oficial', '#email': second_officer });
  await c.page.check('input[name=groups] >> nth=0');
  await c.page.check(`label.check:has-text("Centro") input[name=groups]`);
  // Chacra XI too: the group of the desk journey, where this officer decides.
  await c.page.check(`label.check:has-text("Chacra XI") input[name=groups]`);
  await c.submit('/commissioner/staff', { to: /^\/commissioner\/staff/ });
  await c.check('staff-invited', { path: /^\/commissioner\/staff/ });
  await c.page.click(`a:has-text("Segunda Oficial")`);
  await c.check('staff-member', { path: /^\/commissioner\/staff\/[0-9a-f-]+$/ });
  await c.goto('/commissioner/audit');
  await c.check('audit', { path: '/commissioner/audit' });
  await c.goto('/commissioner/audit?action=application.submitted');
  await c.check('audit-search', { path: /^\/commissioner\/audit\?/ });
  await c.goto('/commissioner/audit/verify');
  await c.check('audit-verify', { path: '/commissioner/audit/verify' });
  await c.goto(`/commissioner/applications/${id}`);
  await c.check('application-record', { path: `/commissioner/applications/${id}` });
  await c.page.click('a[href^="/commissioner/people/"]');
  await c.check('person-record', { path: /^\/commissioner\/people\/[0-9a-f-]+$/ });
  await c.goto('/commissioner/memberships');
  await c.check('memberships', { path: '/commissioner/memberships' });
  await c.goto('/commissioner/memberships?q=Juana');
  await c.check('memberships-search', { path: '/commissioner/memberships?q=Juana' });
  await c.goto(`/officer/memberships/${membership}`);
  await c.check('membership', { path: `/officer/memberships/${membership}` });
  await c.goto('/commissioner/removals');
  await c.check('removals', { path: '/commissioner/removals' });
  for (const csv of ['/commissioner/memberships.csv', '/commissioner/decisions.csv?days=30']) {
    const res = await c.download(csv);
    if (res.status !== 200 || !/text\/csv/.test(res.type) || res.body.length === 0) {
      fail(c.where('export'), `${csv}: ${res.status} ${res.type}`);
    }
  }

  // The invited officer sets a password and gives the second approval.
  const s2 = await Session.open(browser, pass, 'officer2');
  await s2.goto(await mailLink(second_officer, '/invite/'));
  await s2.check('invite', { path: /^\/invite\// });
  await s2.fill({ '#password': STAFF_PASSWORD });
  await s2.submit('/invite/', { to: /^\/(officer|login)/ });
  if (!new URL(s2.page.url()).pathname.startsWith('/officer')) {
    await s2.signIn(second_officer, STAFF_PASSWORD, '/officer');
  }
  await s2.check('queue', { path: /^\/officer/ });
  await review(s2, third, 'review-confirm');
  await s2.submit(`/officer/applications/${third}/confirm`, { to: /^\/officer/ });
  await s2.check('confirmed', { path: /^\/officer/ });

  await deskJourney(browser, pass, o, s2);

  // Last, the resident deletes the account.
  await r.goto('/account');
  await r.fill({ '#delete_password': RESIDENT_PASSWORD });
  await r.submit('/account/delete', { to: /^\/($|\?|login)/ });
  await r.check('deleted', { path: /^\/($|\?|login)/ });

  for (const s of [r, o, c, s2]) await s.close();
}

// Enrollment at the police station (issue 15): the officer `o` takes an application in
// person (a mistake first, then the three documents), prints the receipt with its claim
// code; `s2`, another officer of the group, approves it (the one who took it may not); the
// card is printed, the notice marked told, and the resident claims the account with DNI
// and code, confirms the address and signs in. In the phone pass all of it is at 390 px.
async function deskJourney(browser, pass, o, s2) {
  const dni = pass === 'phone' ? '25.444.334' : '25.444.333';
  const name = `Rosa Ñancucheo ${pass === 'phone' ? 'Teléfono' : 'Escritorio'}`;
  const email = `rosa.nancucheo.${pass}@example.org`;
  const password = 'cormorán faro estepa viento';

  if ((await o.page.locator('nav a[href="/officer/desk"]').count()) === 0) fail(o.where('desk'), 'no link to the desk in the navigation');
  await o.goto('/officer/desk');
  await o.check('desk', { path: '/officer/desk' });
  await o.page.selectOption('#group', 'chacra-xi');
  await o.fill({ '#full_name': name, '#dni': dni });
  await o.submit('/officer/desk', { to: '/officer/desk' });
  await o.check('desk-mistake', { path: '/officer/desk', status: 422 });
  await o.page.selectOption('#group', 'chacra-xi');
  await o.fill({
    '#full_name': name,
    '#dni': dni,
    '#street_address': 'Pasaje Los Ñires 55',
    '#phone': '2964 555123',
    '#email': '',
    '#certificate_issued_on': localToday(),
  });
  await o.page.setInputFiles('#residency_proof', path.join(FILES, 'factura.pdf'));
  await o.page.setInputFiles('#criminal_record', path.join(FILES, 'small.jpg'));
  await o.page.setInputFiles('#identity_document', path.join(FILES, 'dni.png'));
  await o.page.check('input[name=paper_consent]');
  await o.submit('/officer/desk', { to: /^\/officer\/desk\/[0-9a-f-]+\/receipt$/ });
  await o.check('desk-receipt', { path: /^\/officer\/desk\/[0-9a-f-]+\/receipt$/ });
  const id = idAfter(o.page, '/officer/desk/');
  const code = (await o.page.getAttribute('[data-claim-code]', 'data-claim-code')) || '';
  if (!/^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/.test(code)) fail(o.where('desk-receipt'), `claim code ${JSON.stringify(code)}`);
  await printView(o, 'desk-receipt-print', `/officer/desk/${id}/receipt`, '.receipt');

  // The officer who took it cannot approve it; another officer of the group does.
  await review(o, id, 'review-desk-own');
  if ((await o.page.locator('form[action$="/approve"]').count()) !== 0) fail(o.where('review-desk-own'), 'the officer who took it is offered the approval');
  await review(s2, id, 'review-desk');
  await claim(s2, id);
  await approve(s2, id);
  await s2.check('approved-desk', { path: /^\/officer/ });

  // The receipt again (no code now), the card and its print view, the notice told.
  await o.goto(`/officer/desk/${id}/receipt`);
  await o.check('desk-receipt-again', { path: `/officer/desk/${id}/receipt` });
  if ((await o.page.locator('[data-claim-code]').count()) !== 0) fail(o.where('desk-receipt-again'), 'the claim code is shown twice');
  await Promise.all([o.page.waitForNavigation(), o.page.click(`a[href="/officer/desk/${id}/card"]`)]);
  await o.check('desk-card', { path: `/officer/desk/${id}/card` });
  await printView(o, 'desk-card-print', `/officer/desk/${id}/card`, '.member-card');
  await o.goto('/officer/desk/notices');
  await o.check('desk-notices', { path: '/officer/desk/notices' });
  const notice = await o.page.getAttribute(`li[data-notice]:has-text("${name}")`, 'data-notice');
  await o.submit(`/officer/desk/notices/${notice}/told`, { to: '/officer/desk/notices' });
  await o.check('desk-notice-told', { path: '/officer/desk/notices' });
  if ((await o.page.locator(`li[data-notice="${notice}"]`).count()) !== 0) fail(o.where('desk-notice-told'), 'the notice is still listed');

  // Later, on the resident's own phone or computer: a wrong code, then the right one typed
  // loosely (lower case, no hyphen), an address and a password, the mail, and /me.
  const r = await Session.open(browser, pass, 'claimant');
  await r.goto('/claim');
  await r.check('claim', { path: '/claim' });
  await r.fill({ '#dni': dni.replace(/\D/g, ''), '#code': 'AAAAA-BBBBB' });
  await r.submit('/claim', { to: '/claim' });
  await r.check('claim-refused', { path: '/claim', status: 401 });
  await r.fill({ '#dni': dni.replace(/\D/g, ''), '#code': code.toLowerCase().replace('-', '') });
  await r.submit('/claim', { to: '/claim' });
  await r.check('claim-account', { path: '/claim' });
  await r.fill({ '#email': email, '#password': password });
  await r.submit('/claim/account', { to: /^\/login/ });
  await r.check('claimed', { path: /^\/login/ });
  await r.goto(await mailLink(email, '/email/confirm/'));
  await r.check('claim-confirm', { path: /^\/email\/confirm\// });
  await r.submit('/email/confirm/', { to: /^\/login/ });
  await r.fill({ '#email': email, '#password': password });
  await r.submit('/login', { to: '/me' });
  await r.check('claim-me', { path: '/me' });
  if ((await r.page.locator('a[href^="/memberships/"]').count()) === 0) fail(r.where('claim-me'), 'no membership card on /me');
  await r.close();
}

// The page `s` shows, as printed: checked and screenshotted with print styles, which must
// leave `keep` and hide the site's header, navigation and buttons.
async function printView(s, name, at, keep) {
  await s.page.emulateMedia({ media: 'print' });
  try {
    await s.check(name, { path: at });
    const shown = await s.page.evaluate((sel) => {
      const visible = (e) => !!e && getComputedStyle(e).display !== 'none' && e.getClientRects().length > 0;
      return {
        keep: visible(document.querySelector(sel)),
        extra: Array.from(document.querySelectorAll('header.site, footer.site, nav, button, .no-print')).filter(visible).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')),
      };
    }, keep);
    if (!shown.keep) fail(s.where(name), `${keep} is not printed`);
    for (const e of shown.extra) fail(s.where(name), `${e} is printed`);
  } finally {
    await s.page.emulateMedia({ media: 'screen' });
  }
}

// A plain application (small files), for the officer's other decisions. Returns its id.
async function applySimply(r, group) {
  await r.goto(`/applications/new?group=${group}`);
  await r.page.waitForSelector('form[data-upload-ready]');
  await fillApplication(r, { photo: 'small.jpg' });
  await r.page.click('form[data-upload] button[type=submit]');
  await r.page.waitForURL(/\/applications\/[0-9a-f-]+$/);
  return idAfter(r.page, '/applications/');
}

async function noScriptPass(browser) {
  const pass = 'nojs';
  const v = await Session.open(browser, pass, 'visitor', { width: 'phone', js: false });
  await visitor(v);
  await v.close();
  const r = await Session.open(browser, pass, 'resident', { width: 'phone', js: false });
  await registerAndSignIn(r, 'juana.nojs@example.org', 'Juana Sin Script');
  const id = await applyWithoutScript(r, 'chacra-ii');
  await r.goto('/me');
  await r.check('me-applied', { path: '/me' });
  await r.goto(`/applications/${id}`);
  await r.check('application-again', { path: `/applications/${id}` });
  await r.close();
}

// Not part of the check (E2E_PASSES=measure): the bytes and time of a three-photo
// application from a phone on a 1.6 Mbit/s uplink, with the script and without it, for
// docs/PERFORMANCE.md.
async function measurePass(browser) {
  const email = 'medicion@example.org';
  const r = await Session.open(browser, 'measure', 'resident', { width: 'phone' });
  await registerAndSignIn(r, email, 'Medición Tres Fotos');
  const photo = path.join(FILES, 'camera.jpg');
  const results = [];
  for (const [js, group] of [[true, 'chacra-ii'], [false, 'chacra-iv']]) {
    const s = js ? r : await Session.open(browser, 'measure', 'resident-nojs', { width: 'phone', js: false });
    if (!js) await s.signIn(email, RESIDENT_PASSWORD, '/me');
    const page = s.page;
    await s.goto(`/applications/new?group=${group}`);
    await s.fill({ '#street_address': 'Belgrano 1234', '#dni': '30.123.456', '#certificate_issued_on': localToday() });
    await page.check('input[name=consent]');
    const chosen = Date.now();
    for (const field of ['#residency_proof', '#criminal_record', '#identity_document']) await page.setInputFiles(field, photo);
    if (js) {
      await page.waitForFunction(() => document.querySelectorAll('.upload-note.reduced').length === 3, null, { timeout: 60000 });
      console.log(`measure: the three photos made small in ${((Date.now() - chosen) / 1000).toFixed(1)} s`);
      await page.evaluate(() => {
        const send = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function (body) {
          this.upload.addEventListener('progress', (e) => { window.__sent = e.total; });
          return send.call(this, body);
        };
      });
    }
    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, uploadThroughput: 200000, downloadThroughput: 500000 });
    const started = Date.now();
    await Promise.all([page.waitForURL(/\/applications\/[0-9a-f-]+$/, { timeout: 300000 }), page.click('form[action="/applications"] button[type=submit]', { noWaitAfter: true })]);
    const seconds = (Date.now() - started) / 1000;
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
    const bytes = js ? await page.evaluate(() => window.__sent) : 3 * fs.statSync(photo).size;
    const line = `measure: ${js ? 'with the script' : 'without the script'}: ${bytes} bytes${js ? ' (request body)' : ' (the three files)'}, ${seconds.toFixed(1)} s from the click to the next page`;
    console.log(line);
    results.push(line);
    if (!js) await s.close();
  }
  await r.close();
}

// ----- main -------------------------------------------------------------------------------

(async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const made = await fixtures.write(FILES, browser);
    console.log(`fixtures in ${FILES}: camera.jpg ${made.cameraBytes} bytes`);
    for (const pass of PASSES) {
      console.log(`== ${pass}`);
      try {
        if (pass === 'nojs') await noScriptPass(browser);
        else if (pass === 'measure') await measurePass(browser);
        else await fullPass(browser, pass);
      } catch (e) {
        fail(pass, `stopped: ${e.message.split('\n')[0]}`);
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`\n${pagesChecked} pages checked; screenshots in ${SHOTS}`);
  if (failures.length) {
    console.log(`${failures.length} problem(s):`);
    for (const f of failures) console.log(`  - ${f}`);
    process.exit(1);
  }
  console.log('no problems found');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
