// samlify acting as a SAML 2.0 service provider against IdentityHub, one protocol step per run.
// The .NET interop test (tests/IdentityHub.Interop.Tests/SamlifyServiceProviderTests.cs) drives the
// browser and calls this script for each step; every step prints one JSON line.
// Environment: SAML_STEP, IDP_METADATA_URL, SP_ENTITY_ID, SP_ACS, SP_SLO, SP_KEY_PEM, SP_CERT_PEM, and per step:
//   parse-login-response: SAML_RESPONSE, RELAY_STATE
//   logout-request: NAME_ID, SESSION_INDEX
//   parse-logout-response: RAW_QUERY (the query string exactly as the browser received it)
import * as samlify from 'samlify';
import * as validator from '@authenio/samlify-xmllint-wasm';

samlify.setSchemaValidator(validator);

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const metadata = await (await fetch(env('IDP_METADATA_URL'))).text();
const idp = samlify.IdentityProvider({ metadata, wantLogoutRequestSigned: true });
const sp = samlify.ServiceProvider({
  entityID: env('SP_ENTITY_ID'),
  authnRequestsSigned: true,
  wantAssertionsSigned: true,
  wantMessageSigned: true,
  wantLogoutResponseSigned: true,
  wantLogoutRequestSigned: true,
  privateKey: env('SP_KEY_PEM'),
  signingCert: env('SP_CERT_PEM'),
  nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
  assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: env('SP_ACS') }],
  singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: env('SP_SLO') }],
  clockDrifts: [-60000, 60000],
});

const out = (value) => console.log(JSON.stringify(value));

switch (env('SAML_STEP')) {
  case 'metadata':
    out({ metadata: sp.getMetadata() });
    break;
  case 'login-request': {
    const { id, context } = sp.createLoginRequest(idp, 'redirect', { relayState: 'samlify-relay' });
    out({ id, url: context });
    break;
  }
  case 'parse-login-response': {
    const { extract, samlContent } = await sp.parseLoginResponse(idp, 'post', {
      body: { SAMLResponse: env('SAML_RESPONSE'), RelayState: process.env.RELAY_STATE },
    });
    out({
      nameID: extract.nameID,
      sessionIndex: extract.sessionIndex?.sessionIndex,
      authnContextClassRef: extract.sessionIndex?.authnContextClassRef,
      issuer: extract.issuer,
      audience: extract.audience,
      attributes: extract.attributes,
      inResponseTo: extract.response?.inResponseTo,
      responseLength: samlContent.length,
    });
    break;
  }
  case 'logout-request': {
    const { id, context } = sp.createLogoutRequest(idp, 'redirect', {
      logoutNameID: env('NAME_ID'),
      sessionIndex: env('SESSION_INDEX'),
    }, 'samlify-logout');
    out({ id, url: context });
    break;
  }
  case 'parse-logout-response': {
    const raw = env('RAW_QUERY').replace(/^\?/, '');
    // samlify takes the decoded parameters (as a web framework gives them) and, for the signature,
    // bindings §3.4.4.1's octets: the raw parameters exactly as received, in this order.
    const rawPairs = Object.fromEntries(raw.split('&').map((p) => p.split('=')));
    const query = Object.fromEntries(new URLSearchParams(raw));
    const octetString = ['SAMLResponse', 'RelayState', 'SigAlg']
      .filter((k) => rawPairs[k] !== undefined)
      .map((k) => `${k}=${rawPairs[k]}`)
      .join('&');
    const { extract, sigAlg } = await sp.parseLogoutResponse(idp, 'redirect', { query, octetString });
    out({ issuer: extract.issuer, inResponseTo: extract.response?.inResponseTo, sigAlg, relayState: query.RelayState ?? '' });
    break;
  }
  default:
    throw new Error(`unknown SAML_STEP ${process.env.SAML_STEP}`);
}
