-- POST /connect/introspect with client_secret_basic for a user's access token issued to that client; it must be active.
-- Arguments: [2] the client's Basic credentials (base64), [3] the access token.
init_scenario = function(args)
  wrk.method = "POST"
  wrk.body = "token=" .. args[3] .. "&token_type_hint=access_token"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. args[2]
end
check = function(body) return body:find('"active":true', 1, true) ~= nil end
