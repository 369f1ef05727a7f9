-- One GET, the same URL every time (LOAD_URL): the latency of one page or one
-- summary for the scaling curves.
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

function setup(thread) c.setup(thread) end
function init(args) c.init() end
function request() return wrk.format("GET", os.getenv("LOAD_URL"), c.headers()) end
function response(status, headers, body)
  c.count(status)
  c.publish()
end
function done(summary, latency, requests) c.done(summary, latency, requests) end
