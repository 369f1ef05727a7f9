-- One GET, the same URL every time (LOAD_URL): the latency of one page or one
-- summary for the scaling curves.
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

c.install()
function request() return wrk.format("GET", os.getenv("LOAD_URL"), c.headers()) end
