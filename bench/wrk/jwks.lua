-- GET /.well-known/jwks: the answer must hold at least one key.
check = function(body) return body:find('"kid"', 1, true) ~= nil end
