-- (a) The write path: auto-approved deferred payments ("pay us tomorrow") of
-- 1.00 for random seeded customers at their picked store, each with its own
-- Idempotency-Key, by a pos token (self-grant limit 25).
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

c.install()

function request() return c.pay_tomorrow(c.pick()) end
