-- (b) The read path: a random seeded customer's summary (open promises, store
-- credit, trust), what a till asks at the counter.
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

c.install()

function request()
  local p = c.pick()
  return wrk.format("GET", "/v1/customers/" .. p[2] .. "/summary", c.headers())
end


