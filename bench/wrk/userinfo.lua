-- GET /connect/userinfo with a user's access token. Arguments: [2] the access token.
init_scenario = function(args)
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end
check = function(body) return body:find('"sub":', 1, true) ~= nil end
