// The load client for what wrk cannot do: flows that follow the real pages with cookies and forms, as a browser does.
// Driven by bench/run.sh; one command per run, chosen by the first argument; every command prints one line
//   RESULT requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E
// (or JSON for setup) and exits 1 when anything failed.
//
//   setup   : through the admin API (TOKEN), an application with a confidential OIDC client (code + refresh, PKCE) and
//             an application with a SAML service provider registered from samlify's metadata (SP_KEY, SP_CERT files);
//             both hold a role granted to the signing-in user. Prints {clientId, clientSecret}.
//   signin  : CONCURRENCY workers for DURATION seconds: GET /connect/authorize (PKCE S256) -> the sign-in page ->
//             form POST with its antiforgery token -> redirects to the client's redirect URI with the code (state checked)
//             -> POST /connect/token with the verifier. Each access and ID token is verified with the key published in
//             the JWKS (jose), for the expected algorithm, issuer and audience.
//   saml    : CONCURRENCY workers for DURATION seconds: samlify's signed AuthnRequest (redirect binding) -> the sign-in
//             page -> form POST -> the auto-posting page with the SAMLResponse; each Response must have status Success
//             and answer the request's ID; the first of each worker is verified in full by samlify (signature, schema).
//   tokens  : COUNT code flows (4 at a time); writes the refresh tokens to OUT_REFRESH and the access tokens to OUT_ACCESS.
//   verify  : the token answers in SAMPLES (one JSON document per line, from wrk) hold JWT access tokens signed with
//             the key the JWKS publishes, with ALG; prints {verified: N}.
// Env: IDP (server URL), USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET, ALG (RS256 | ES256).
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { IdpBrowser, field } from '../tests/interop/idp-browser.mjs';

const interop = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const load = async (name) => import(pathToFileURL(interop.resolve(name)).href);
const jose = await load('jose');

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const IDP = env('IDP');
const issuer = new URL(IDP.endsWith('/') ? IDP : `${IDP}/`);
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const b64url = (buffer) => buffer.toString('base64url');

/** The sign-in page reached from `start`, filled in and posted; returns where the IdP sends the browser afterwards. */
async function signIn(browser, start) {
  const toLogin = await browser.follow(start);
  if (!toLogin.url.pathname.startsWith('/account/login') || toLogin.response.status !== 200) {
    throw new Error(`expected the sign-in page, got ${toLogin.response.status} ${toLogin.url}`);
  }
  const form = await toLogin.response.text();
  const posted = await browser.request(new URL('/account/login', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      'Input.UserName': env('USERNAME'),
      'Input.Password': env('PASSWORD'),
      ReturnUrl: field(form, 'ReturnUrl'),
      __RequestVerificationToken: field(form, '__RequestVerificationToken'),
    }),
  });
  await posted.arrayBuffer();
  if (posted.status !== 302) throw new Error(`the sign-in form answered ${posted.status}`);
  return browser.follow(new URL(posted.headers.get('location'), issuer));
}

let jwks;
const keys = async () => (jwks ??= jose.createLocalJWKSet(await (await fetch(new URL('.well-known/jwks', issuer))).json()));
const discovery = async () => (await fetch(new URL('.well-known/openid-configuration', issuer))).json();

async function verifyJwt(token, { audience, typ } = {}) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, await keys(), {
    algorithms: [env('ALG', 'RS256')],
    issuer: (await (discoveryDocument ??= discovery())).issuer,
    ...(audience ? { audience } : {}),
    ...(typ ? { typ } : {}),
  });
  return { payload, protectedHeader };
}
let discoveryDocument;

/** One authorization code flow with PKCE through the real pages; returns the token response, verified. */
async function codeFlow() {
  const clientId = env('CLIENT_ID');
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const authorize = new URL('connect/authorize', issuer);
  authorize.search = new URLSearchParams({
    client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid profile email roles offline_access',
    state, nonce, code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  const browser = new IdpBrowser(issuer);
  const callback = await signIn(browser, authorize);
  if (!callback.url.href.startsWith(REDIRECT_URI)) throw new Error(`expected the redirect URI, got ${callback.response.status} ${callback.url}`);
  if (callback.url.searchParams.get('state') !== state) throw new Error('the state came back changed');
  const code = callback.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback.url}`);
  const answer = await fetch(new URL('connect/token', issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(env('CLIENT_SECRET'))}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const tokens = await answer.json();
  if (answer.status !== 200) throw new Error(`the token endpoint answered ${answer.status}: ${JSON.stringify(tokens)}`);
  await verifyJwt(tokens.access_token, { typ: 'at+jwt' });
  const id = await verifyJwt(tokens.id_token, { audience: clientId });
  if (id.payload.nonce !== nonce) throw new Error('the ID token has another nonce');
  if (!tokens.refresh_token) throw new Error('no refresh token');
  return tokens;
}

const percentile = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : 0;

/** CONCURRENCY workers repeating `flow` until DURATION seconds have passed (at least one flow each); prints RESULT. */
async function loop(makeFlow) {
  const concurrency = Number(env('CONCURRENCY', '4'));
  const duration = Number(env('DURATION', '10')) * 1000;
  const latencies = [];
  let errors = 0;
  const firstError = [];
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    const flow = await makeFlow(worker);
    do {
      const t0 = performance.now();
      try {
        await flow();
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        if (firstError.length < 3) firstError.push(String(error?.stack ?? error));
      }
    } while (performance.now() - start < duration);
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  for (const e of firstError) console.error(e);
  console.log(`RESULT requests=${latencies.length + errors} seconds=${seconds.toFixed(3)} rps=${(latencies.length / seconds).toFixed(1)} `
    + `p50_ms=${percentile(latencies, 50).toFixed(3)} p99_ms=${percentile(latencies, 99).toFixed(3)} errors=${errors}`);
  process.exitCode = errors || !latencies.length ? 1 : 0;
}

async function samlServiceProvider() {
  const samlify = await load('samlify');
  samlify.setSchemaValidator(await load('@authenio/samlify-xmllint-wasm'));
  const metadata = await (await fetch(new URL('saml/metadata', issuer))).text();
  const idp = samlify.IdentityProvider({ metadata });
  const spBase = 'http://127.0.0.1:9/bench-sp';
  const sp = samlify.ServiceProvider({
    entityID: `${spBase}/metadata`,
    authnRequestsSigned: true,
    wantAssertionsSigned: true,
    wantMessageSigned: true,
    privateKey: readFileSync(env('SP_KEY'), 'utf8'),
    signingCert: readFileSync(env('SP_CERT'), 'utf8'),
    nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: `${spBase}/acs` }],
    clockDrifts: [-60000, 60000],
  });
  return { samlify, idp, sp, acs: `${spBase}/acs` };
}

const admin = async (method, path, body) => {
  const response = await fetch(new URL(`api/admin/v1/${path}`, issuer), {
    method,
    headers: { authorization: `Bearer ${env('TOKEN')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

async function grantRole(applicationId, userId) {
  const permission = await admin('POST', `applications/${applicationId}/permissions`, { name: 'bench.use' });
  const role = await admin('POST', 'roles', { applicationId, name: 'bench-member', permissions: [{ permissionId: permission.id }] });
  await admin('POST', 'assignments', { userId, roleId: role.id, reason: 'benchmark' });
}

const command = process.argv[2];
switch (command) {
  case 'setup': {
    const users = await admin('GET', `users?q=${encodeURIComponent(env('USERNAME'))}`);
    const user = users.items.find((u) => u.userName === env('USERNAME'));
    const oidcApp = await admin('POST', 'applications', { name: 'Bench OIDC', description: 'benchmark' });
    const client = await admin('PUT', `applications/${oidcApp.id}/oidc`, {
      clientType: 'confidential', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email', 'roles', 'offline_access'],
      firstParty: true, requirePkce: true,
    });
    await grantRole(oidcApp.id, user.id);
    const { sp } = await samlServiceProvider();
    const samlApp = await admin('POST', 'applications', { name: 'Bench SAML', description: 'benchmark' });
    await admin('POST', `applications/${samlApp.id}/saml/metadata`, { metadataXml: sp.getMetadata() });
    await grantRole(samlApp.id, user.id);
    console.log(JSON.stringify({ clientId: client.clientId, clientSecret: client.clientSecret }));
    break;
  }
  case 'signin':
    await loop(async () => async () => { await codeFlow(); });
    break;
  case 'saml': {
    const { samlify, idp, sp, acs } = await samlServiceProvider();
    await loop(async () => {
      let verifiedInFull = false;
      return async () => {
        const { id, context } = sp.createLoginRequest(idp, 'redirect', { relayState: 'bench' });
        const page = await signIn(new IdpBrowser(issuer), context);
        if (page.response.status !== 200) throw new Error(`expected the auto-posting page, got ${page.response.status} ${page.url}`);
        const html = await page.response.text();
        const action = html.match(/<form[^>]*action="([^"]*)"/)?.[1]?.replaceAll('&amp;', '&');
        if (action !== acs) throw new Error(`the form posts to ${action}, not the ACS`);
        const samlResponse = field(html, 'SAMLResponse');
        const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
        if (!/<(\w+:)?StatusCode [^>]*Value="urn:oasis:names:tc:SAML:2\.0:status:Success"/.test(xml)) throw new Error(`status is not Success: ${xml.slice(0, 400)}`);
        if (!xml.includes(`InResponseTo="${id}"`)) throw new Error('the Response does not answer the request');
        if (!verifiedInFull) {
          const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: samlResponse, RelayState: field(html, 'RelayState') } });
          if (extract.response?.inResponseTo !== id || !extract.nameID) throw new Error('samlify did not accept the Response');
          verifiedInFull = true;
        }
        void samlify;
      };
    });
    break;
  }
  case 'tokens': {
    const count = Number(env('COUNT'));
    const refresh = [];
    const access = [];
    for (let i = 0; i < count; i += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, count - i) }, () => codeFlow()));
      for (const t of batch) { refresh.push(t.refresh_token); access.push(t.access_token); }
    }
    writeFileSync(env('OUT_REFRESH'), `${refresh.join('\n')}\n`);
    writeFileSync(env('OUT_ACCESS'), `${access.join('\n')}\n`);
    console.log(JSON.stringify({ tokens: count }));
    break;
  }
  case 'verify': {
    const lines = readFileSync(env('SAMPLES'), 'utf8').split('\n').filter(Boolean);
    if (!lines.length) throw new Error('no sampled answers to verify');
    for (const line of lines) {
      const { access_token: token } = JSON.parse(line);
      await verifyJwt(token, { typ: 'at+jwt' });
    }
    console.log(JSON.stringify({ verified: lines.length }));
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
