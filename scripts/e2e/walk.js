// Walks the main journeys in headless Chromium and takes screenshots (see scripts/e2e.sh).
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');
const BASE = process.env.E2E_BASE || 'http://127.0.0.1:8091';
const DIR = process.env.E2E_DIR || '/tmp/demo';
const SHOTS = process.env.E2E_SHOTS || '/tmp/shots';
const [, , cPass, oPass] = process.argv;

async function mailLink(prefix, to) {
  for (let i = 0; i < 40; i++) {
    try { return latestMailLink(prefix, to); } catch (e) { await new Promise(r => setTimeout(r, 500)); }
  }
  return latestMailLink(prefix, to);
}

// The newest mailed link starting with `prefix` (in a mail to `to`, when given).
function latestMailLink(prefix, to) {
  const dir = DIR + '/data/mail';
  const files = fs.readdirSync(dir).map(f => path.join(dir, f)).sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
  for (const f of files.reverse()) {
    const text = fs.readFileSync(f, 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    if (to && !text.includes('To: ' + to)) continue;
    const m = text.match(new RegExp(BASE.replace(/[.]/g, '\\.') + prefix + '[A-Za-z0-9_-]+'));
    if (m) return m[0];
  }
  throw new Error('no mail link ' + prefix);
}

// axe-core's accessibility rules on the page as it is now (the CSP forbids scripts, so the
// contexts that run it bypass it); violations go to `errors`.
async function axeCheck(page, name, errors) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const r = await page.evaluate(async () => await axe.run(document, { resultTypes: ['violations'] }));
  for (const v of r.violations) errors.push(`${name}: axe ${v.id} on ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
}

// Usable at 390 px: nothing wider than the viewport.
async function fits(page, name, errors) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  if (w > 390) errors.push(`${name}: ${w}px wide at 390 px`);
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const shot = async (page, name) => { await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true }); console.log('shot', name, page.url()); };
  const errors = [];
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'es-AR' });
  const page = await ctx.newPage();
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });

  await page.goto(BASE + '/'); await shot(page, '01-landing-mobile');
  // Resident registers, confirms, applies.
  await page.click('text=Crear cuenta');
  await page.fill('#full_name', 'Juana Pérez'); await page.fill('#email', 'juana@example.org'); await page.fill('#password', 'glaciar tortuga bandoneón mate');
  await page.click('button[type=submit]:has-text("Crear cuenta")'); await shot(page, '02-register-sent');
  await page.goto(await mailLink('/email/confirm/')); await page.click('button:has-text("Confirmar")'); await shot(page, '03-confirmed-login');
  await page.fill('#email', 'juana@example.org'); await page.fill('#password', 'glaciar tortuga bandoneón mate'); await page.click('button:has-text("Ingresar")');
  await shot(page, '04-me');
  await page.click('a:has-text("Solicitar ingreso") >> nth=0'); await shot(page, '05-apply-form');
  await page.fill('#street_address', 'Belgrano 1234'); await page.fill('#dni', '30.123.456');
  const today = new Date(Date.now() - 3 * 3600 * 1000).toISOString().slice(0, 10);
  await page.fill('#certificate_issued_on', today);
  await page.setInputFiles('#residency_proof', DIR + '/doc.pdf');
  await page.setInputFiles('#criminal_record', DIR + '/cert.png');
  await page.setInputFiles('#identity_document', DIR + '/dni.png');
  await page.check('input[name=consent]');
  await page.click('button:has-text("Enviar solicitud")'); await shot(page, '06-application');

  // Officer reviews on a desktop.
  const octx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'es-AR' });
  const op = await octx.newPage();
  await op.goto(BASE + '/login'); await op.fill('#email', 'oficial.demo@example.org'); await op.fill('#password', oPass); await op.click('button:has-text("Ingresar")');
  await shot(op, '07-officer-queue');
  await op.click('td a >> nth=0'); await op.click('button:has-text("Tomar la solicitud")');
  await shot(op, '08-officer-review');
  for (const n of ['check_address', 'check_identity', 'check_certificate_date', 'check_no_record']) await op.check(`input[name=${n}]`);
  await op.click('button:has-text("Aprobar")');
  await shot(op, '09-after-approve');

  // Resident sees the membership card; the QR link verifies.
  await page.goto(BASE + '/me'); await shot(page, '10-me-member');
  await page.click('.membership a >> nth=0'); await shot(page, '11-card');
  const verify = await page.getAttribute('.verify-link a', 'href');
  const vp = await ctx.newPage(); await vp.goto(verify); await shot(vp, '12-verify');

  // Commissioner dashboard and audit log, in English.
  const cctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en' } });
  const cp = await cctx.newPage();
  await cp.goto(BASE + '/login'); await cp.fill('#email', 'comisario.demo@example.org'); await cp.fill('#password', cPass); await cp.click('button[type=submit]:not(.link)');
  await shot(cp, '13-commissioner-dashboard');
  await cp.goto(BASE + '/commissioner/audit'); await shot(cp, '14-audit');
  await cp.goto(BASE + '/commissioner/groups'); await shot(cp, '15-groups');
  await cp.goto(BASE + '/nope'); await shot(cp, '16-404');
  // A second officer, invited by the commissioner, for every neighbourhood: the one who
  // takes an application at the desk never approves it.
  await cp.goto(BASE + '/commissioner/staff');
  await cp.fill('#full_name', 'Segunda Oficial'); await cp.fill('#email', 'segunda.oficial@example.org');
  await cp.selectOption('#role', 'officer');
  for (const box of await cp.$$('input[name=groups]')) await box.check();
  await cp.click('form[action="/commissioner/staff"] button[type=submit]');
  const second = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'es-AR' });
  const sp = await second.newPage();
  await sp.goto(await mailLink('/invite/', 'segunda.oficial@example.org')); await sp.fill('#password', 'lenga ñire calafate guanaco');
  await sp.click('form[action^="/invite/"] button[type=submit]');
  await sp.goto(BASE + '/login'); await sp.fill('#email', 'segunda.oficial@example.org'); await sp.fill('#password', 'lenga ñire calafate guanaco'); await sp.click('button:has-text("Ingresar")');

  // The desk, on a phone-sized screen: the form, the receipt and its print view.
  const dctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'es-AR', bypassCSP: true });
  const dp = await dctx.newPage();
  dp.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  await dp.goto(BASE + '/login'); await dp.fill('#email', 'oficial.demo@example.org'); await dp.fill('#password', oPass); await dp.click('button:has-text("Ingresar")');
  await dp.click('nav a:has-text("Mostrador")');
  await axeCheck(dp, 'desk form', errors); await fits(dp, 'desk form', errors); await shot(dp, '17-desk-form');
  await dp.fill('#full_name', 'Rosa Ñancucheo'); await dp.fill('#dni', '25.444.333');
  await dp.fill('#street_address', 'Pasaje Los Ñires 55'); await dp.fill('#phone', '2964 555123');
  await dp.fill('#certificate_issued_on', today);
  await dp.setInputFiles('#residency_proof', DIR + '/dni.png');
  await dp.setInputFiles('#criminal_record', DIR + '/cert.png');
  await dp.setInputFiles('#identity_document', DIR + '/dni.png');
  await dp.check('input[name=paper_consent]');
  await dp.click('button:has-text("Cargar la solicitud")');
  const code = await dp.getAttribute('[data-claim-code]', 'data-claim-code');
  if (!/^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/.test(code || '')) errors.push('receipt: no claim code: ' + code);
  const receiptUrl = dp.url();
  const applicationId = receiptUrl.split('/')[5];
  await axeCheck(dp, 'receipt', errors); await fits(dp, 'receipt', errors); await shot(dp, '18-receipt');
  await dp.emulateMedia({ media: 'print' }); await shot(dp, '19-receipt-print'); await dp.emulateMedia({ media: 'screen' });

  // Another officer approves; the desk officer prints the card and tells the person.
  await sp.goto(BASE + '/officer/applications/' + applicationId); await sp.click('button:has-text("Tomar la solicitud")');
  for (const n of ['check_address', 'check_identity', 'check_certificate_date', 'check_no_record']) await sp.check(`input[name=${n}]`);
  await sp.click('button:has-text("Aprobar")');
  await dp.goto(receiptUrl); await dp.click('a:has-text("Imprimir la credencial")');
  await axeCheck(dp, 'card', errors); await fits(dp, 'card', errors);
  await dp.emulateMedia({ media: 'print' }); await shot(dp, '20-card-print'); await dp.emulateMedia({ media: 'screen' });
  await dp.click('nav a:has-text("Avisos a dar")');
  await axeCheck(dp, 'desk notices', errors); await fits(dp, 'desk notices', errors); await shot(dp, '21-desk-notices');
  await dp.click('button:has-text("Ya le avisé") >> nth=0'); await shot(dp, '22-notice-told');

  // The resident claims the account later, on a phone.
  const rctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'es-AR', bypassCSP: true });
  const rp = await rctx.newPage();
  rp.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  await rp.goto(BASE + '/claim');
  await axeCheck(rp, 'claim', errors); await fits(rp, 'claim', errors); await shot(rp, '23-claim');
  await rp.fill('#dni', '25444333'); await rp.fill('#code', code.toLowerCase()); await rp.click('button:has-text("Continuar")');
  await axeCheck(rp, 'claim account', errors); await fits(rp, 'claim account', errors); await shot(rp, '24-claim-account');
  await rp.fill('#email', 'rosa@example.org'); await rp.fill('#password', 'cormorán faro estepa viento');
  await rp.click('button:has-text("Guardar")');
  await rp.goto(await mailLink('/email/confirm/', 'rosa@example.org')); await rp.click('button:has-text("Confirmar")');
  await rp.fill('#email', 'rosa@example.org'); await rp.fill('#password', 'cormorán faro estepa viento'); await rp.click('button:has-text("Ingresar")');
  if (!rp.url().endsWith('/me')) errors.push('claim: sign-in did not land on /me: ' + rp.url());
  await shot(rp, '25-claimed-me');

  await browser.close();
  if (errors.length) { console.error('console errors:', errors); process.exit(1); }
  console.log('walk complete, no console errors');
})().catch(e => { console.error(e); process.exit(1); });
