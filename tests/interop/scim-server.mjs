// A small SCIM 2.0 service provider (RFC 7643/7644) built on scimmy + scimmy-routers, with its own
// in-memory store: Users (with the enterprise extension) and Groups, bearer-token auth. The .NET tests
// start it, read the port from the first line it prints, and inspect or tamper with its store through
// the /_store side endpoints (outside SCIM, no auth) to create drift. /_store also counts SCIM requests in flight at
// once ("traffic"): a request is in flight until answered or until its client gives up (a stalled one is then dropped).
//
// Environment: SCIM_TOKEN (required bearer token), PORT (default 0 = any free port).
import { randomUUID } from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.SCIM_TOKEN;
if (!token) {
  console.error("SCIM_TOKEN is required");
  process.exit(2);
}

const users = new Map();
const groups = new Map();
const requests = [];

const copy = (value) => JSON.parse(JSON.stringify(value));

function stamp(resourceType, existing) {
  const now = new Date().toISOString();
  return { resourceType, created: existing?.meta?.created ?? now, lastModified: now };
}

// RFC 7644 §3.3 / §3.5.1: create and replace; userName is unique (case-insensitive, RFC 7643 §4.1.1).
SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false))
  .ingress((resource, instance) => {
    const data = copy(instance);
    const clash = [...users.values()].find((u) => u.userName?.toLowerCase() === data.userName?.toLowerCase() && u.id !== resource.id);
    if (clash) {
      throw new SCIMMY.Types.Error(409, "uniqueness", `userName "${data.userName}" is already taken`);
    }
    if (resource.id) {
      const existing = users.get(resource.id);
      if (!existing) {
        throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      }
      const replaced = { ...data, id: resource.id, meta: stamp("User", existing) };
      users.set(resource.id, replaced);
      return replaced;
    }
    const created = { ...data, id: randomUUID(), meta: stamp("User") };
    users.set(created.id, created);
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
    const all = [...users.values()].sort((a, b) => a.meta.created.localeCompare(b.meta.created) || a.id.localeCompare(b.id));
    return resource.filter ? resource.filter.match(all) : all;
  })
  .degress((resource) => {
    if (!users.delete(resource.id)) {
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    }
    for (const group of groups.values()) {
      group.members = (group.members ?? []).filter((m) => m.value !== resource.id);
    }
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
  });

// Faults the next SCIM requests suffer, in order: {status, retryAfter?} answers with that status, {delayMs} stalls.
const faults = [];
const traffic = { inFlight: 0, maxInFlight: 0, abandoned: 0 };

const app = express();
app.use((req, _res, next) => {
  requests.push({ method: req.method, path: req.originalUrl });
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
  const fault = faults.shift();
  if (!fault) return next();
  // A stalled request whose client has gone is dropped, not carried out late.
  if (fault.delayMs) return setTimeout(() => (res.locals.gone ? undefined : next()), fault.delayMs);
  if (fault.retryAfter !== undefined) res.set("Retry-After", String(fault.retryAfter));
  res.status(fault.status).type("application/scim+json").send(JSON.stringify({
    schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(fault.status), detail: "injected fault",
  }));
});
app.post("/_faults", express.json(), (req, res) => {
  faults.push(...req.body);
  res.json({ queued: faults.length });
});

// The side door for tests: read the raw store, edit or add a user behind IdentityHub's back.
app.get("/_store", (_req, res) => res.json({ users: [...users.values()], groups: [...groups.values()], requests, traffic }));
app.patch("/_store/users/:id", express.json(), (req, res) => {
  const user = users.get(req.params.id);
  if (!user) return res.sendStatus(404);
  users.set(user.id, { ...user, ...req.body });
  res.json(users.get(user.id));
});
app.post("/_store/users", express.json(), (req, res) => {
  const user = { ...req.body, id: randomUUID(), meta: stamp("User") };
  users.set(user.id, user);
  res.status(201).json(user);
});
app.delete("/_store/users/:id", (req, res) => res.sendStatus(users.delete(req.params.id) ? 204 : 404));

app.use("/scim/v2", new SCIMMYRouters({
  type: "bearer",
  docUri: "https://datatracker.ietf.org/doc/html/rfc6750",
  handler: (request) => {
    if (request.header("Authorization") !== `Bearer ${token}`) {
      throw new Error("Bearer token missing or wrong");
    }
    return "identityhub";
  },
}));

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
