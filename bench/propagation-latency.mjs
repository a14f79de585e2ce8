// Propagation latency, driven by bench/propagation-latency.sh: for each connector kind (webhook, SCIM) and N users one
// after the other, grant a role through the admin API, wait until the target has the user, end the assignment, wait until
// the target has removed them. The latency of a change is the target's own record of it (the receiver's message time,
// scimmy's meta.created or its DELETE answer) minus the instant the admin API call returned; both clocks are this
// machine's Date.now(). A change that lands before the API's answer reaches the client counts as negative.
// BACKGROUND other changes per second go on meanwhile (another user created and granted the same role, not awaited in
// turn; each one reaches the target too); a failed background change counts as an error.
// Env: IDP (server URL), TOKEN (admin API bearer), RECEIVER (webhook receiver URL), SCIM (scimmy base URL), N, KINDS,
// BACKGROUND. Prints one JSON line per kind and change (with the values of grant and end), and one for the background.
const { IDP, TOKEN, RECEIVER, SCIM } = process.env;
const N = Number(process.env.N ?? 200);
const KINDS = (process.env.KINDS ?? "webhook,scim").split(",");
const BACKGROUND = Number(process.env.BACKGROUND ?? 0);
const POLL_MS = 10;
const PATIENCE_MS = 30000;

const api = async (method, path, body) => {
  const response = await fetch(IDP + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
};
const get = async (url) => (await fetch(url)).json();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe) {
  const start = Date.now();
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== null) return found;
    if (Date.now() - start > PATIENCE_MS) throw new Error(`waited ${PATIENCE_MS} ms for ${what}`);
    await sleep(POLL_MS);
  }
}

// When the target recorded the user's arrival and removal (asking for that user only: the whole store each 10 ms would
// cost the target more than the deliveries do).
const targets = {
  webhook: {
    arrived: async (userId) => (await get(`${RECEIVER}/messages?user=${encodeURIComponent(userId)}`)).find((m) => m.type === "user.created")?.at,
    removed: async (userId) => (await get(`${RECEIVER}/messages?user=${encodeURIComponent(userId)}`)).find((m) => m.type === "user.deleted")?.at,
  },
  scim: {
    arrived: async (userId) => {
      const [user] = await get(`${SCIM}/_users?externalId=${encodeURIComponent(userId)}`);
      return user ? Date.parse(user.meta.created) : undefined;
    },
    removed: async (userId, scimId) => {
      if ((await get(`${SCIM}/_users?externalId=${encodeURIComponent(userId)}`)).length > 0) return undefined;
      const path = encodeURIComponent(`/scim/v2/Users/${scimId}`);
      return (await get(`${SCIM}/_requests?method=DELETE&path=${path}`)).find((r) => r.answeredAt)?.answeredAt;
    },
  },
};

async function setUp(kind) {
  const suffix = Math.random().toString(36).slice(2, 8);
  const application = await api("POST", "/api/admin/v1/applications", { name: `Latency ${kind} ${suffix}` });
  const permission = await api("POST", `/api/admin/v1/applications/${application.id}/permissions`, { name: "latency.use" });
  const role = await api("POST", "/api/admin/v1/roles", { applicationId: application.id, name: "member", delegable: false, permissions: [{ permissionId: permission.id }] });
  const settings = kind === "webhook"
    ? { url: `${RECEIVER}/hooks` }
    : { baseUrl: `${SCIM}/scim/v2`, authentication: "bearer", groupsMode: false };
  const connector = await api("POST", `/api/admin/v1/applications/${application.id}/connectors`, {
    kind, name: `latency ${kind}`, settings, ...(kind === "scim" ? { secret: process.env.SCIM_TOKEN } : {}),
  });
  if (kind === "webhook") {
    await fetch(`${RECEIVER}/control/secret`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ secret: connector.secret }) });
  }
  return { role: role.id, suffix };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) };
};

for (const kind of KINDS) {
  const { role, suffix } = await setUp(kind);
  const target = targets[kind];
  const measured = { grant: [], grantFromRequest: [], end: [], endFromRequest: [] };
  const background = { sent: 0, errors: 0, pending: new Set() };
  const timer = BACKGROUND > 0 ? setInterval(() => {
    const name = `bg-${kind}-${suffix}-${background.sent++}`;
    const change = (async () => {
      const user = await api("POST", "/api/admin/v1/users", { userName: name, displayName: `Background ${name}`, email: `${name}@example.test`, employeeNumber: name.toUpperCase() });
      await api("POST", "/api/admin/v1/assignments", { userId: user.id, roleId: role, reason: "latency bench background" });
    })().catch((error) => { background.errors++; console.error(`background change: ${error}`); });
    background.pending.add(change);
    change.finally(() => background.pending.delete(change));
  }, 1000 / BACKGROUND) : null;
  // A few unmeasured rounds first: JIT, connection pools and the first claims are not what is measured.
  for (let i = -5; i < N; i++) {
    const name = `lat-${kind}-${suffix}-${i + 5}`;
    const user = await api("POST", "/api/admin/v1/users", { userName: name, displayName: `Latency ${name}`, email: `${name}@example.test`, employeeNumber: name.toUpperCase() });
    const grantSent = Date.now();
    const assignment = await api("POST", "/api/admin/v1/assignments", { userId: user.id, roleId: role, reason: "latency bench" });
    const grantReturned = Date.now();
    const arrived = await until(`${kind} arrival of ${user.id}`, () => target.arrived(user.id));
    const scimId = kind === "scim" ? (await get(`${SCIM}/_users?externalId=${encodeURIComponent(user.id)}`))[0].id : null;
    const endSent = Date.now();
    await api("POST", `/api/admin/v1/assignments/${assignment.id}/end`, { reason: "latency bench" });
    const endReturned = Date.now();
    const removed = await until(`${kind} removal of ${user.id}`, () => target.removed(user.id, scimId));
    if (i < 0) continue;
    measured.grant.push(arrived - grantReturned);
    measured.grantFromRequest.push(arrived - grantSent);
    measured.end.push(removed - endReturned);
    measured.endFromRequest.push(removed - endSent);
  }
  if (timer) clearInterval(timer);
  await Promise.all([...background.pending]);
  for (const [change, values] of Object.entries(measured)) {
    console.log(JSON.stringify({ kind, change, unit: "ms", ...summary(values), ...(change === "grant" || change === "end" ? { values } : {}) }));
  }
  console.log(JSON.stringify({ kind, change: "background", sent: background.sent, errors: background.errors, perSecond: BACKGROUND }));
}
