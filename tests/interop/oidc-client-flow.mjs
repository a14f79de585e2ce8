// Drives IdentityHub with the openid-client library (v6) as a real relying party would:
// discovery, authorization code + PKCE through the real sign-in form (a cookie-keeping HTTP client
// standing in for the browser), ID token validation, userinfo, refresh, revocation, RP-initiated logout.
// Input: environment variables; output: one JSON object on stdout; exit code 1 on any failure.
import * as client from 'openid-client';
import { IdpBrowser, field } from './idp-browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const issuer = new URL(env('IH_ISSUER'));
const redirectUri = env('IH_REDIRECT_URI');
const postLogoutRedirectUri = env('IH_POST_LOGOUT_REDIRECT_URI');
const scope = process.env.IH_SCOPE ?? 'openid profile email employee roles offline_access';
const authMethod = process.env.IH_AUTH_METHOD ?? 'client_secret_basic';

async function signIn(browser, authorizationUrl) {
  const toLogin = await browser.follow(authorizationUrl);
  if (!toLogin.url.pathname.startsWith('/account/login')) {
    throw new Error(`expected the sign-in page, got ${toLogin.response.status} ${toLogin.url}`);
  }
  const form = await toLogin.response.text();
  const posted = await browser.request(new URL('/account/login', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      'Input.UserName': env('IH_USERNAME'),
      'Input.Password': env('IH_PASSWORD'),
      ReturnUrl: field(form, 'ReturnUrl'),
      __RequestVerificationToken: field(form, '__RequestVerificationToken'),
    }),
  });
  if (posted.status !== 302) throw new Error(`sign-in failed with ${posted.status}`);
  const callback = await browser.follow(new URL(posted.headers.get('location'), issuer));
  if (!callback.url.href.startsWith(redirectUri)) {
    throw new Error(`expected a redirect to ${redirectUri}, got ${callback.response.status} ${callback.url}`);
  }
  return callback.url;
}

const clientAuthentication = {
  client_secret_basic: () => client.ClientSecretBasic(env('IH_CLIENT_SECRET')),
  client_secret_post: () => client.ClientSecretPost(env('IH_CLIENT_SECRET')),
  none: () => client.None(),
}[authMethod]();

const config = await client.discovery(issuer, env('IH_CLIENT_ID'), undefined, clientAuthentication, {
  execute: [client.allowInsecureRequests],
});

const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

const browser = new IdpBrowser(issuer);
const callbackUrl = await signIn(browser, authorizationUrl);

// The library checks state, the code exchange with the verifier, and the ID token (signature from the
// JWKS, iss, aud, exp, nonce).
const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
});
const idClaims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshRotated = refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token;

await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
let refreshAfterRevocation;
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
  refreshAfterRevocation = 'accepted';
} catch (error) {
  refreshAfterRevocation = error.error ?? error.code ?? String(error);
}

const logoutState = client.randomState();
const endSessionUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutRedirectUri,
  state: logoutState,
});
const loggedOut = await browser.follow(endSessionUrl);

console.log(JSON.stringify({
  idTokenClaims: idClaims,
  userinfo,
  accessToken: tokens.access_token,
  refreshRotated,
  refreshAfterRevocation,
  logoutRedirect: loggedOut.url.href,
  logoutStateEchoed: loggedOut.url.searchParams.get('state') === logoutState,
}));
