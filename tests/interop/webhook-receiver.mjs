// A webhook receiver for the provisioning proofs: verifies every message with the `standardwebhooks` package,
// keeps each user's newest state (dropping versions it has seen, as the spec's receivers should), and records
// what a test must check: deliveries, bad signatures, versions going backwards, and overlapping deliveries per user.
// A delivery is in flight from its arrival until it is answered or the sender gives up on it (closes the connection):
// a hang or delay then ends at once and nothing of that message is kept ("abandoned"), as a receiver that stops work
// for a gone client would. Control (JSON): POST /control/secret {secret}; POST /control/faults [{status, retryAfter?} |
// {hangMs} | {hold: true, status}: held until POST /control/release, then answered with status] (used in order, then 200s); POST /control/delay {ms}; POST /control/hold {after} (the next `after` messages
// pass, every later one is held in flight, counted in `held`, until POST /control/release or until its sender gives up);
// GET /state. Prints {"port": N} once listening. KEEPALIVE_MS: how long an idle connection is kept (default 1000).
// For load runs, whose polling must not cost the receiver the whole store each time: GET /summary (the counters of
// /state without users and messages) and GET /messages?user=ID (that user's).
import http from "node:http";
import { Webhook } from "standardwebhooks";

let webhook = process.env.WEBHOOK_SECRET ? new Webhook(process.env.WEBHOOK_SECRET) : null;
let faults = [];
let delayMs = 0;
let hold = null;
const held = new Set();
const state = { connections: 0, received: 0, accepted: 0, duplicates: 0, badSignatures: 0, abandoned: 0, held: 0, backwards: [], overlaps: [], faultsServed: 0, maxInFlight: 0, users: {}, messages: [] };
const inFlight = new Map(); // per user, while their messages are in flight
let inFlightTotal = 0;

// Held until released or abandoned, whichever comes first; `held` counts the messages waiting right now.
function holdUntilReleased(abandoned) {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  held.add(release);
  state.held = held.size;
  return Promise.race([released, abandoned]).finally(() => { held.delete(release); state.held = held.size; });
}

const readBody = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  req.on("error", reject);
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (res, status, value, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
};

async function receive(req, res, body) {
  state.received++;
  let message;
  try {
    // Standard Webhooks: checks webhook-id, webhook-timestamp (±5 min) and the v1 HMAC-SHA256 signature.
    message = webhook.verify(body, req.headers);
  } catch (e) {
    state.badSignatures++;
    return json(res, 401, { error: String(e) });
  }
  const user = message.data.userId;
  const now = (inFlight.get(user) ?? 0) + 1;
  inFlight.set(user, now);
  if (now > 1) state.overlaps.push({ user, version: message.data.version });
  inFlightTotal++;
  state.maxInFlight = Math.max(state.maxInFlight, inFlightTotal);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    inFlightTotal--;
    const left = inFlight.get(user) - 1;
    if (left > 0) inFlight.set(user, left);
    else inFlight.delete(user);
  };
  let gone = false;
  const abandoned = new Promise((resolve) => res.on("close", () => {
    if (!res.writableFinished) { gone = true; state.abandoned++; end(); }
    resolve();
  }));
  const wait = (ms) => Promise.race([sleep(ms), abandoned]);
  try {
    const fault = faults.shift();
    if (fault) {
      state.faultsServed++;
      if (fault.hangMs) { await wait(fault.hangMs); }
      if (fault.hold) { await holdUntilReleased(abandoned); }
      if (gone) return;
      const headers = fault.retryAfter ? { "retry-after": String(fault.retryAfter) } : {};
      return json(res, fault.status ?? 503, { error: "injected fault" }, headers);
    }
    if (hold && hold.after > 0) hold.after--;
    else if (hold) await holdUntilReleased(abandoned);
    if (gone) return;
    if (delayMs) await wait(delayMs);
    if (gone) return;
    const id = req.headers["webhook-id"];
    const known = state.users[user];
    state.messages.push({ id, type: message.type, user, version: message.data.version, at: Date.now() });
    if (state.messages.length > 20000) state.messages.shift();
    if (known && message.data.version < known.version) {
      state.backwards.push({ user, got: message.data.version, had: known.version });
    } else if (known && message.data.version === known.version) {
      state.duplicates++;
    } else {
      state.accepted++;
      state.users[user] = { version: message.data.version, type: message.type, id, data: message.data };
    }
    return json(res, 200, { ok: true });
  } finally {
    end();
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url, "http://localhost");
    if (req.method === "GET" && url.pathname === "/state") return json(res, 200, state);
    if (req.method === "GET" && url.pathname === "/summary") {
      const { users: _users, messages: _messages, ...counters } = state;
      return json(res, 200, { ...counters, backwards: state.backwards.length, overlaps: state.overlaps.length });
    }
    if (req.method === "GET" && url.pathname === "/messages") {
      const user = url.searchParams.get("user");
      return json(res, 200, state.messages.filter((m) => m.user === user));
    }
    if (req.method === "POST" && url.pathname === "/control/secret") { webhook = new Webhook(JSON.parse(body).secret); return json(res, 200, {}); }
    if (req.method === "POST" && url.pathname === "/control/faults") { faults = JSON.parse(body); return json(res, 200, {}); }
    if (req.method === "POST" && url.pathname === "/control/delay") { delayMs = JSON.parse(body).ms; return json(res, 200, {}); }
    if (req.method === "POST" && url.pathname === "/control/hold") { hold = { after: JSON.parse(body).after ?? 0 }; return json(res, 200, {}); }
    if (req.method === "POST" && url.pathname === "/control/release") {
      hold = null;
      const waiting = [...held];
      waiting.forEach((release) => release());
      return json(res, 200, { released: waiting.length });
    }
    if (req.method === "POST" && url.pathname === "/hooks") {
      if (!webhook) return json(res, 503, { error: "no secret yet" });
      return await receive(req, res, body);
    }
    json(res, 404, { error: "not found" });
  } catch (e) {
    json(res, 500, { error: String(e) });
  }
});
server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS ?? 1000);
// TCP connections accepted: a sender that reuses its connections opens a few, not one per message.
server.on("connection", () => { state.connections++; });
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
