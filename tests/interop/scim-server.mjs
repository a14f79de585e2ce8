// A small SCIM 2.0 service provider (RFC 7643/7644) built on scimmy + scimmy-routers, with its own
// in-memory store: Users (with the enterprise extension and IdentityHub's version extension) and Groups,
// bearer-token auth. The .NET tests start it, read the port from the first line it prints, and inspect or
// tamper with its store through the /_store side endpoints (outside SCIM, no auth) to create drift. /_store also
// counts SCIM requests in flight at once ("traffic"): a request is in flight until answered or until its client gives
// up (a stalled one is then dropped); and logs every request with the status it was answered with ("requests"), so a
// test sees what was refused (401) or not found (404); the side endpoints' own requests are not logged. For load runs,
// whose polling must not cost the server the whole store each time: GET /_summary (counts), GET /_users?externalId=X
// (that user, if held) and GET /_requests?method=M[&path=P]; users are indexed by userName and externalId, so neither
// these nor the look-ups before each write cost more as the store grows.
// POST /_hold {after} lets the next `after` SCIM requests through
// and holds every later one in flight (counted in traffic.held) until POST /_release or until its client gives up.
//
// Environment: SCIM_TOKEN (a static bearer token, required), PORT (default 0 = any free port),
// SCIM_STORE_FILE (keep the store in this JSON file, so a restart on the same port keeps its users),
// OAUTH_CLIENT_ID + OAUTH_CLIENT_SECRET (also serve POST /token, RFC 6749 §4.4 client credentials with
// client_secret_basic, and accept the tokens it issued), OAUTH_TOKEN_SECONDS (their lifetime, default 3600).
//
// Versions: a User may carry urn:identityhub:params:scim:schemas:extension:2.0:Provisioning {version}. The
// server keeps the highest version seen per externalId; a lower one is recorded in `backwards` (and stored
// anyway, so a test sees the damage), the same one again in `duplicates`.
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.SCIM_TOKEN;
if (!token) {
  console.error("SCIM_TOKEN is required");
  process.exit(2);
}

const ProvisioningSchema = "urn:identityhub:params:scim:schemas:extension:2.0:Provisioning";
const storeFile = process.env.SCIM_STORE_FILE;
const saved = storeFile && existsSync(storeFile) ? JSON.parse(readFileSync(storeFile, "utf8")) : {};
const users = new Map();
const groups = new Map(Object.entries(saved.groups ?? {}));
const versions = saved.versions ?? {};
const backwards = saved.backwards ?? [];
const requests = [];
const requestsByMethod = new Map();
let duplicates = saved.duplicates ?? 0;

const copy = (value) => JSON.parse(JSON.stringify(value));

// Users by lower-cased userName and externalId: sets of ids, since the side door may store duplicates.
const byUserName = new Map();
const byExternalId = new Map();
const index = (map, key, id, add) => {
  if (typeof key !== "string") return;
  const ids = map.get(key) ?? new Set();
  if (add) ids.add(id); else ids.delete(id);
  if (ids.size > 0) map.set(key, ids); else map.delete(key);
};
const indexUser = (user, add) => {
  index(byUserName, user.userName?.toLowerCase(), user.id, add);
  index(byExternalId, user.externalId?.toLowerCase(), user.id, add);
};
// Every write to `users` goes through these two, so the indexes stay exact.
function putUser(user) {
  const previous = users.get(user.id);
  if (previous) indexUser(previous, false);
  users.set(user.id, user);
  indexUser(user, true);
  return user;
}
function removeUser(id) {
  const previous = users.get(id);
  if (!previous) return false;
  indexUser(previous, false);
  return users.delete(id);
}
const usersIn = (ids) => [...(ids ?? [])].map((id) => users.get(id));
for (const user of Object.values(saved.users ?? {})) putUser(user);

function persist() {
  if (!storeFile) return;
  const state = { users: Object.fromEntries(users), groups: Object.fromEntries(groups), versions, backwards, duplicates };
  // Written whole and renamed, so a kill mid-write leaves the previous file.
  writeFileSync(storeFile + ".tmp", JSON.stringify(state));
  renameSync(storeFile + ".tmp", storeFile);
}

function stamp(resourceType, existing) {
  const now = new Date().toISOString();
  return { resourceType, created: existing?.meta?.created ?? now, lastModified: now };
}

function observeVersion(data) {
  const version = data[ProvisioningSchema]?.version;
  if (version === undefined || !data.externalId) return;
  const had = versions[data.externalId];
  if (had !== undefined && version < had) backwards.push({ externalId: data.externalId, got: version, had });
  else if (had === version) duplicates++;
  versions[data.externalId] = Math.max(version, had ?? version);
}

// The users a filter can match: for `userName eq "x"` or `externalId eq "x"` alone (the look-ups before each write) only
// those whose attribute equals x ignoring case, a superset of what scimmy's own match (applied after this) accepts; for
// any other filter, all.
function candidates(filter) {
  const only = filter.length === 1 ? Object.entries(filter[0]) : [];
  const [attribute, comparison] = only.length === 1 ? only[0] : [];
  const name = attribute?.toLowerCase();
  if ((name !== "username" && name !== "externalid") || !Array.isArray(comparison) || comparison[0] !== "eq" || typeof comparison[1] !== "string") {
    return [...users.values()];
  }
  // Compared without case: a superset of what scimmy's match keeps whatever the attribute's caseExact.
  const wanted = comparison[1].toLowerCase();
  return usersIn((name === "username" ? byUserName : byExternalId).get(wanted));
}

// scimmy accepts only urn:ietf:params:scim:schemas: ids at construction; RFC 7643 §3.3 lets vendors use their own URN.
const provisioning = new SCIMMY.Types.SchemaDefinition("Provisioning", "urn:ietf:params:scim:schemas:extension:placeholder", "IdentityHub provisioning state", [
  new SCIMMY.Types.Attribute("integer", "version", { description: "The per-(connector, user) state version; it only grows." }),
]);
provisioning.id = ProvisioningSchema;

// RFC 7644 §3.3 / §3.5.1: create and replace; userName is unique (case-insensitive, RFC 7643 §4.1.1).
SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false).extend(provisioning, false))
  .ingress((resource, instance) => {
    const data = copy(instance);
    const clash = usersIn(byUserName.get(data.userName?.toLowerCase())).some((u) => u.id !== resource.id);
    if (clash) {
      throw new SCIMMY.Types.Error(409, "uniqueness", `userName "${data.userName}" is already taken`);
    }
    if (resource.id) {
      const existing = users.get(resource.id);
      if (!existing) {
        throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      }
      observeVersion(data);
      const replaced = putUser({ ...data, id: resource.id, meta: stamp("User", existing) });
      persist();
      return replaced;
    }
    observeVersion(data);
    const created = putUser({ ...data, id: randomUUID(), meta: stamp("User") });
    persist();
    return created;
  })
  .egress((resource) => {
    if (resource.id) {
      const found = users.get(resource.id);
      if (!found) {
        throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      }
      return [found];
    }
    // Filtered first, then sorted: the same list in the same order, without sorting every user for each look-up
    // (a provisioning client looks a user up by userName before each write; with 10,000 users the sort was the server's cost).
    const matched = resource.filter ? resource.filter.match(candidates(resource.filter)) : [...users.values()];
    return matched.sort((a, b) => a.meta.created.localeCompare(b.meta.created) || a.id.localeCompare(b.id));
  })
  .degress((resource) => {
    if (!removeUser(resource.id)) {
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    }
    for (const group of groups.values()) {
      group.members = (group.members ?? []).filter((m) => m.value !== resource.id);
    }
    persist();
  });

// Groups: PATCH (RFC 7644 §3.5.2) is applied by scimmy, which then hands the result to ingress.
SCIMMY.Resources.declare(SCIMMY.Resources.Group)
  .ingress((resource, instance) => {
    const data = copy(instance);
    const clash = [...groups.values()].find((g) => g.displayName === data.displayName && g.id !== resource.id);
    if (clash) {
      throw new SCIMMY.Types.Error(409, "uniqueness", `displayName "${data.displayName}" is already taken`);
    }
    const unknown = (data.members ?? []).find((m) => !users.has(m.value));
    if (unknown) {
      throw new SCIMMY.Types.Error(400, "invalidValue", `member ${unknown.value} is not a user`);
    }
    if (resource.id && !groups.has(resource.id)) {
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    }
    const id = resource.id ?? randomUUID();
    const saved = { ...data, members: data.members ?? [], id, meta: stamp("Group", groups.get(id)) };
    groups.set(id, saved);
    persist();
    return saved;
  })
  .egress((resource) => {
    if (resource.id) {
      const found = groups.get(resource.id);
      if (!found) {
        throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      }
      return [found];
    }
    const all = [...groups.values()];
    return resource.filter ? resource.filter.match(all) : all;
  })
  .degress((resource) => {
    if (!groups.delete(resource.id)) {
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    }
    persist();
  });

// Faults the next SCIM requests suffer, in order: {status, retryAfter?} answers with that status, {delayMs} stalls;
// {method: "POST", ...} waits for the next request with that method; {race: true} on a POST first stores the user
// as a concurrent writer would, then answers 409 uniqueness (RFC 7644 §3.3). {delayMs: N} at /_delay slows every request.
const faults = [];
let everyRequestDelayMs = 0;
const traffic = { inFlight: 0, maxInFlight: 0, abandoned: 0, held: 0 };
let hold = null;
const held = new Set();

const issued = new Map();
const oauth = process.env.OAUTH_CLIENT_ID ? { id: process.env.OAUTH_CLIENT_ID, secret: process.env.OAUTH_CLIENT_SECRET ?? "" } : null;
const tokenSeconds = Number(process.env.OAUTH_TOKEN_SECONDS ?? 3600);
let tokenRequests = 0;

const scimError = (res, status, detail, scimType) => res.status(status).type("application/scim+json").send(JSON.stringify({
  schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), ...(scimType ? { scimType } : {}), detail,
}));

const app = express();
app.use((req, res, next) => {
  if (req.path.startsWith("/_")) return next();
  const entry = { method: req.method, path: req.originalUrl, at: Date.now(), status: null, answeredAt: null };
  requests.push(entry);
  if (!requestsByMethod.has(req.method)) requestsByMethod.set(req.method, []);
  requestsByMethod.get(req.method).push(entry);
  res.on("finish", () => { entry.status = res.statusCode; entry.answeredAt = Date.now(); });
  next();
});
app.use("/scim/v2", (_req, res, next) => {
  traffic.inFlight++;
  traffic.maxInFlight = Math.max(traffic.maxInFlight, traffic.inFlight);
  let ended = false;
  res.on("close", () => {
    if (ended) return;
    ended = true;
    traffic.inFlight--;
    if (!res.writableFinished) {
      traffic.abandoned++;
      res.locals.gone = true;
    }
  });
  next();
});
app.use("/scim/v2", (req, res, next) => {
  const index = faults.findIndex((f) => !f.method || f.method === req.method);
  const fault = index < 0 ? null : faults.splice(index, 1)[0];
  // A stalled request whose client has gone is dropped, not carried out late.
  const go = () => (res.locals.gone ? undefined : next());
  const delayed = () => (everyRequestDelayMs ? setTimeout(go, everyRequestDelayMs) : go());
  const slowed = () => {
    if (!hold) return delayed();
    if (hold.after > 0) { hold.after--; return delayed(); }
    const release = () => { if (held.delete(release)) { traffic.held = held.size; delayed(); } };
    held.add(release);
    traffic.held = held.size;
    res.on("close", () => { if (held.delete(release)) traffic.held = held.size; });
  };
  if (!fault) return slowed();
  if (fault.delayMs) return setTimeout(slowed, fault.delayMs);
  if (fault.race) {
    return express.json({ type: ["application/scim+json", "application/json"] })(req, res, () => {
      const user = putUser({ ...req.body, id: randomUUID(), meta: stamp("User") });
      persist();
      scimError(res, 409, `userName "${user.userName}" is already taken`, "uniqueness");
    });
  }
  if (fault.retryAfter !== undefined) res.set("Retry-After", String(fault.retryAfter));
  scimError(res, fault.status, "injected fault");
});
app.post("/_faults", express.json(), (req, res) => {
  faults.push(...req.body);
  res.json({ queued: faults.length });
});
app.post("/_hold", express.json(), (req, res) => {
  hold = { after: req.body.after ?? 0 };
  res.json({ after: hold.after });
});
app.post("/_release", (_req, res) => {
  hold = null;
  const waiting = [...held];
  waiting.forEach((release) => release());
  res.json({ released: waiting.length });
});
app.post("/_delay", express.json(), (req, res) => {
  everyRequestDelayMs = req.body.delayMs ?? 0;
  res.json({ delayMs: everyRequestDelayMs });
});

// RFC 6749 §4.4 / §5.1: client credentials with HTTP Basic client authentication (§2.3.1), bearer tokens of RFC 6750.
app.post("/token", express.urlencoded({ extended: false }), (req, res) => {
  if (!oauth) return res.sendStatus(404);
  tokenRequests++;
  const [scheme, encoded] = (req.header("Authorization") ?? "").split(" ");
  const [id, secret] = scheme === "Basic" ? Buffer.from(encoded ?? "", "base64").toString("utf8").split(":").map(decodeURIComponent) : [];
  if (id !== oauth.id || secret !== oauth.secret) return res.status(401).set("WWW-Authenticate", "Basic").json({ error: "invalid_client" });
  if (req.body.grant_type !== "client_credentials") return res.status(400).json({ error: "unsupported_grant_type" });
  const accessToken = randomBytes(24).toString("base64url");
  issued.set(accessToken, Date.now() + tokenSeconds * 1000);
  res.set("Cache-Control", "no-store").json({ access_token: accessToken, token_type: "Bearer", expires_in: tokenSeconds });
});
// A rotation at the token server: every token issued so far stops working.
app.post("/_oauth/revoke", (_req, res) => {
  const revoked = issued.size;
  issued.clear();
  res.json({ revoked });
});

// The side door for tests: read the raw store, edit or add a user behind IdentityHub's back.
app.get("/_store", (_req, res) => res.json({
  users: [...users.values()], groups: [...groups.values()], requests, versions, backwards, duplicates, tokenRequests, traffic,
}));
app.get("/_summary", (_req, res) => res.json({
  users: users.size, groups: groups.size, requests: requests.length, backwards: backwards.length, duplicates, tokenRequests, traffic,
}));
app.get("/_users", (req, res) => res.json(
  usersIn(byExternalId.get(String(req.query.externalId).toLowerCase())).filter((u) => u.externalId === req.query.externalId)));
app.get("/_requests", (req, res) => res.json(
  (requestsByMethod.get(req.query.method) ?? []).filter((r) => req.query.path === undefined || r.path === req.query.path)));
app.patch("/_store/users/:id", express.json(), (req, res) => {
  const user = users.get(req.params.id);
  if (!user) return res.sendStatus(404);
  putUser({ ...user, ...req.body, id: user.id });
  persist();
  res.json(users.get(user.id));
});
app.post("/_store/users", express.json(), (req, res) => {
  const user = putUser({ ...req.body, id: randomUUID(), meta: stamp("User") });
  persist();
  res.status(201).json(user);
});
app.delete("/_store/users/:id", (req, res) => {
  const removed = removeUser(req.params.id);
  persist();
  res.sendStatus(removed ? 204 : 404);
});

app.use("/scim/v2", new SCIMMYRouters({
  type: "bearer",
  docUri: "https://datatracker.ietf.org/doc/html/rfc6750",
  handler: (request) => {
    const presented = (request.header("Authorization") ?? "").replace(/^Bearer /, "");
    const expires = issued.get(presented);
    if (presented !== token && !(expires && expires > Date.now())) {
      throw new Error("Bearer token missing, wrong, expired or revoked");
    }
    return "identityhub";
  },
}));

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
