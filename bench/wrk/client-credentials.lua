-- POST /connect/token, grant_type=client_credentials, client_secret_basic. Arguments: [2] the Basic credentials (base64).
init_scenario = function(args)
  wrk.method = "POST"
  wrk.body = "grant_type=client_credentials"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. args[2]
end
check = function(body) return body:find('"access_token":"ey', 1, true) ~= nil end
