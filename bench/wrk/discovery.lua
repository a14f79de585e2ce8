-- GET /.well-known/openid-configuration: the answer must name the token endpoint.
check = function(body) return body:find('"token_endpoint"', 1, true) ~= nil end
