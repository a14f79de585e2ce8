-- POST /connect/token, grant_type=refresh_token. Refresh tokens are single use (reuse leeway zero: a second use revokes
-- the family), so each thread keeps a pool: it starts with its share of the tokens in file [3] (one per line, [4] threads)
-- and every answer's new refresh token goes back into it. Arguments: [2] the client's Basic credentials (base64).
local pool = {}
local basic = nil
init_scenario = function(args)
  basic = args[2]
  local n, i = tonumber(args[4]), 0
  for line in io.lines(args[3]) do
    if (i % n) + 1 == id then table.insert(pool, line) end
    i = i + 1
  end
end
-- wrk calls request() once on the first thread before the run to check what it builds (script_verify_request): that
-- request is never sent, so it must not take a token from the pool.
local checked = false
request = function()
  local token
  if id == 1 and not checked then
    checked = true
    token = "request-checked-by-wrk-not-sent"
  else
    token = table.remove(pool) or "pool-exhausted"
  end
  return wrk.format("POST", "/connect/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. basic,
  }, "grant_type=refresh_token&refresh_token=" .. token)
end
check = function(body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then table.insert(pool, token) end
  return token ~= nil and body:find('"access_token":"ey', 1, true) ~= nil
end
