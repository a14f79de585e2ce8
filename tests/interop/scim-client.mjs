// A SCIM 2.0 client that is not IdentityHub's: plain fetch, requests written from the examples of RFC 7644
// (§3.3 create, §3.4.2 filters, §3.5.1 replace, §3.5.2.1-3 PATCH add/remove/replace, §3.6 delete), adapted only in ids,
// URLs and names (prefixed, so runs do not collide). Exits non-zero on any unexpected status or body; the last line of
// stdout is a JSON summary for the .NET test.
// Environment: SCIM_BASE_URL (…/scim/v2), SCIM_TOKEN (the source's bearer token), SCIM_PREFIX (unique per run).
const base = process.env.SCIM_BASE_URL;
const token = process.env.SCIM_TOKEN;
const p = process.env.SCIM_PREFIX ?? 'x';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const checks = [];

function fail(message, details) {
  console.error(`FAILED: ${message}`);
  if (details !== undefined) console.error(JSON.stringify(details, null, 2));
  process.exit(1);
}

function check(condition, message, details) {
  if (!condition) fail(message, details);
  checks.push(message);
}

async function scim(method, path, body, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/scim+json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/scim+json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  if (text.length > 0) {
    try { json = JSON.parse(text); } catch { fail(`${method} ${path}: body is not JSON`, text); }
  }
  return { status: response.status, headers: response.headers, body: json };
}

function expectStatus(reply, status, what) {
  check(reply.status === status, `${what}: ${status}`, { got: reply.status, body: reply.body });
  if (status !== 204 && status !== 304) {
    check((reply.headers.get('content-type') ?? '').startsWith('application/scim+json'), `${what}: application/scim+json`, reply.headers.get('content-type'));
  }
}

function expectError(reply, status, scimType, what) {
  expectStatus(reply, status, what);
  check(reply.body?.schemas?.[0] === ERROR && reply.body.status === String(status) && (scimType === undefined || reply.body.scimType === scimType),
    `${what}: SCIM error ${status}${scimType ? ' ' + scimType : ''}`, reply.body);
}

// Unauthenticated: RFC 7644 §2 with RFC 6750: 401 and a Bearer challenge.
{
  const response = await fetch(base + '/Users');
  check(response.status === 401 && (response.headers.get('www-authenticate') ?? '').startsWith('Bearer'), 'no token: 401 with WWW-Authenticate: Bearer');
}

// §4: discovery.
{
  const config = await scim('GET', '/ServiceProviderConfig');
  expectStatus(config, 200, 'GET /ServiceProviderConfig');
  check(config.body.patch.supported === true && config.body.filter.supported === true && config.body.etag.supported === true, 'ServiceProviderConfig: patch, filter, etag');
}

// §3.3: creating a resource (the RFC's bjensen, userName and externalId prefixed).
const created = await scim('POST', '/Users', {
  schemas: [USER],
  userName: `${p}-bjensen`,
  externalId: `${p}-bjensen`,
  name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
});
expectStatus(created, 201, 'POST /Users (§3.3)');
const id = created.body.id;
check(typeof id === 'string' && id.length > 0, 'created user has an id');
check(created.headers.get('location') === created.body.meta.location, 'Location header is meta.location', { location: created.headers.get('location'), meta: created.body.meta });
check(created.headers.get('etag') === created.body.meta.version && created.body.meta.version.startsWith('W/"'), 'ETag header is meta.version (weak)');
check(created.body.meta.resourceType === 'User' && created.body.userName === `${p}-bjensen`, 'created user: resourceType and userName');
check(created.body.displayName === 'Ms. Barbara J Jensen III', 'displayName from name.formatted');

// §3.3: the same again is a uniqueness conflict.
expectError(await scim('POST', '/Users', { schemas: [USER], userName: `${p}-bjensen`, externalId: `${p}-bjensen` }), 409, 'uniqueness', 'POST /Users again');

// §3.4.1: GET the resource, then If-None-Match with its version (§3.14) is 304.
const fetched = await scim('GET', `/Users/${id}`);
expectStatus(fetched, 200, 'GET /Users/{id}');
expectStatus(await scim('GET', `/Users/${id}`, undefined, { 'If-None-Match': fetched.headers.get('etag') }), 304, 'GET with If-None-Match');

// §3.4.2.2: filters from the RFC's examples (adapted names; attributes IdentityHub keeps).
const filters = [
  [`userName eq "${p}-bjensen"`, 1],
  [`userName sw "${p}-b"`, 1],
  [`userName Eq "${p.toUpperCase()}-BJENSEN"`, 1],
  [`meta.lastModified gt "2011-05-13T04:42:34Z"`, null],
  [`meta.lastModified ge "2011-05-13T04:42:34Z"`, null],
  [`meta.lastModified lt "2011-05-13T04:42:34Z"`, 0],
  [`meta.lastModified le "2011-05-13T04:42:34Z"`, 0],
  [`externalId eq "${p}-bjensen" and not (emails co "example.com" or emails.value co "example.org")`, 1],
];
for (const [filter, expected] of filters) {
  const reply = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
  expectStatus(reply, 200, `filter ${filter}`);
  check(reply.body.schemas[0] === LIST && Array.isArray(reply.body.Resources ?? []), `filter ${filter}: ListResponse`);
  if (expected !== null) check(reply.body.totalResults === expected, `filter ${filter}: ${expected} result(s)`, reply.body);
  else check(reply.body.Resources.some(r => r.id === id), `filter ${filter}: includes the user`);
}
// The RFC's title/userType examples name attributes IdentityHub does not keep: invalidFilter, as §3.4.2.2 says.
expectError(await scim('GET', `/Users?filter=${encodeURIComponent('title pr and userType eq "Employee"')}`), 400, 'invalidFilter', 'filter on an unknown attribute');
expectError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter', 'filter with bad syntax');
// §3.4.3: the same search by POST.
{
  const search = await scim('POST', '/Users/.search', {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
    attributes: ['displayName', 'userName'], filter: `userName eq "${p}-bjensen"`, startIndex: 1, count: 10,
  });
  expectStatus(search, 200, 'POST /Users/.search');
  check(search.body.totalResults === 1 && search.body.Resources[0].emails === undefined, '.search: one result, only the asked attributes', search.body);
}

// §3.5.1: replacing with PUT (the RFC's body: two emails, a middle name), If-Match the version read.
const replaced = await scim('PUT', `/Users/${id}`, {
  schemas: [USER],
  id,
  userName: `${p}-bjensen`,
  externalId: `${p}-bjensen`,
  name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara', middleName: 'Jane' },
  roles: [],
  emails: [{ value: `bjensen@${p}.example.com` }, { value: `babs@${p}.jensen.org` }],
}, { 'If-Match': fetched.headers.get('etag') });
expectStatus(replaced, 200, 'PUT /Users/{id} (§3.5.1)');
check(replaced.body.emails?.[0]?.value === `bjensen@${p}.example.com`, 'PUT: the first email kept', replaced.body);
check(replaced.headers.get('etag') !== fetched.headers.get('etag'), 'PUT: a new version');
expectError(await scim('PUT', `/Users/${id}`, { schemas: [USER], userName: `${p}-bjensen` }, { 'If-Match': fetched.headers.get('etag') }), 412, undefined, 'PUT with a stale If-Match');

// A group (a department) to patch, created as §3.3 creates one.
const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: `${p} Tour Guides`, externalId: `${p}-tour-guides` });
expectStatus(group, 201, 'POST /Groups');
const groupId = group.body.id;

// §3.5.2.1: add members (the RFC's body, with our user's id and URL).
const added = await scim('PATCH', `/Groups/${groupId}`, {
  schemas: [PATCH],
  Operations: [{ op: 'add', path: 'members', value: [{ display: 'Babs Jensen', $ref: `${base}/Users/${id}`, value: id }] }],
}, { 'If-Match': group.headers.get('etag') });
expectStatus(added, 200, 'PATCH add members (§3.5.2.1)');
check(added.body.members.some(m => m.value === id), 'the user is a member', added.body);
// §3.5.2.1: add without a path (the RFC's home email and nickname).
const addedAttributes = await scim('PATCH', `/Users/${id}`, {
  schemas: [PATCH],
  Operations: [{ op: 'add', value: { emails: [{ value: `babs@${p}.jensen.org`, type: 'home' }], nickname: 'Babs' } }],
});
expectStatus(addedAttributes, 200, 'PATCH add without path (§3.5.2.1)');

// §3.5.2.2: remove a member by value filter.
const removed = await scim('PATCH', `/Groups/${groupId}`, {
  schemas: [PATCH],
  Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }],
});
expectStatus(removed, 200, 'PATCH remove member (§3.5.2.2)');
check(!(removed.body.members ?? []).some(m => m.value === id), 'the user is no longer a member', removed.body);
expectError(await scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'remove' }] }), 400, 'noTarget', 'PATCH remove without path');

// §3.5.2.3: replace members, then replace without a path (the RFC's work email and nickname).
const replacedMembers = await scim('PATCH', `/Groups/${groupId}`, {
  schemas: [PATCH],
  Operations: [{ op: 'replace', path: 'members', value: [{ display: 'Babs Jensen', $ref: `${base}/Users/${id}`, value: id }] }],
});
expectStatus(replacedMembers, 200, 'PATCH replace members (§3.5.2.3)');
check(replacedMembers.body.members.length === 1 && replacedMembers.body.members[0].value === id, 'members replaced', replacedMembers.body);
const replacedAttributes = await scim('PATCH', `/Users/${id}`, {
  schemas: [PATCH],
  Operations: [{ op: 'replace', value: { emails: [{ value: `bjensen@${p}.example.com`, type: 'work', primary: true }], nickname: 'Babs' } }],
});
expectStatus(replacedAttributes, 200, 'PATCH replace without path (§3.5.2.3)');
check(replacedAttributes.body.emails.length === 1 && replacedAttributes.body.emails[0].value === `bjensen@${p}.example.com`, 'emails replaced', replacedAttributes.body);
const replacedValue = await scim('PATCH', `/Users/${id}`, {
  schemas: [PATCH],
  Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: `barbara@${p}.example.com` }],
});
expectStatus(replacedValue, 200, 'PATCH replace by value filter');
check(replacedValue.body.emails[0].value === `barbara@${p}.example.com`, 'work email replaced', replacedValue.body);

// §3.6: DELETE, then 404 for every operation on the resource (IdentityHub keeps the person, marked as left).
expectStatus(await scim('DELETE', `/Users/${id}`), 204, 'DELETE /Users/{id} (§3.6)');
expectError(await scim('GET', `/Users/${id}`), 404, undefined, 'GET after DELETE (§3.6)');
// Remove all members (§3.5.2.2: they move to the parent), then the group; someone who left does not hold it.
expectStatus(await scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members' }] }), 200, 'PATCH remove all members');
expectStatus(await scim('DELETE', `/Groups/${groupId}`), 204, 'DELETE /Groups/{id}');
expectError(await scim('GET', `/Groups/${groupId}`), 404, undefined, 'GET a deleted group');

console.log(JSON.stringify({ passed: checks.length, checks }));
