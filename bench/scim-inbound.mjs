// Pushes USERS people into IdentityHub's SCIM server, one POST /Users each, PARALLEL at a time, as an HR system's
// first load would; then PATCHes every tenth person's manager. Prints one JSON line: counts, seconds, per-request p50/p99.
// Exits 1 when any request did not get the status SCIM promises (201 / 200).
const { SCIM_URL, SCIM_TOKEN, USERS = "10000", PARALLEL = "8", DEPARTMENT } = process.env;
const users = Number(USERS), parallel = Number(PARALLEL);
const headers = { authorization: `Bearer ${SCIM_TOKEN}`, "content-type": "application/scim+json" };
const run = `${Date.now().toString(36)}`;
const ids = new Array(users);
const latencies = [];
const failures = [];

async function timed(fn) {
  const start = performance.now();
  try { return await fn(); } finally { latencies.push(performance.now() - start); }
}

async function create(i) {
  const number = `S${run}-${i}`;
  const response = await timed(() => fetch(`${SCIM_URL}/Users`, {
    method: "POST", headers,
    body: JSON.stringify({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      externalId: `hr-${number}`, userName: `u${number}`.toLowerCase(), displayName: `Person ${i}`,
      emails: [{ value: `u${number}@example.test`.toLowerCase(), type: "work", primary: true }], active: true,
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { employeeNumber: number, department: DEPARTMENT },
    }),
  }));
  const body = await response.json().catch(() => null);
  if (response.status !== 201) failures.push(`POST ${i}: ${response.status} ${JSON.stringify(body)?.slice(0, 300)}`);
  else ids[i] = body.id;
}

async function setManager(i) {
  const response = await timed(() => fetch(`${SCIM_URL}/Users/${ids[i]}`, {
    method: "PATCH", headers,
    body: JSON.stringify({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", value: { value: ids[i - 1] } }],
    }),
  }));
  await response.arrayBuffer();
  if (response.status !== 200) failures.push(`PATCH ${i}: ${response.status}`);
}

async function pool(indexes, work) {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < indexes.length) await work(indexes[next++]);
  }));
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const started = performance.now();
await pool([...Array(users).keys()], create);
const created = performance.now();
await pool([...Array(users).keys()].filter(i => i > 0 && i % 10 === 0 && ids[i] && ids[i - 1]), setManager);
const finished = performance.now();
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  users, parallel, failures: failures.length, firstFailures: failures.slice(0, 5),
  createSeconds: +((created - started) / 1000).toFixed(1), createPerSecond: Math.round(users / ((created - started) / 1000)),
  patchSeconds: +((finished - created) / 1000).toFixed(1),
  p50ms: +percentile(latencies, 0.5).toFixed(1), p99ms: +percentile(latencies, 0.99).toFixed(1),
}));
process.exit(failures.length ? 1 : 0);
