-- (a) The write path: auto-approved deferred payments ("pay us tomorrow") of
-- 1.00 for random seeded customers at their picked store, each with its own
-- Idempotency-Key, by a pos token (self-grant limit 25).
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

function setup(thread) c.setup(thread) end
function init(args)
  c.init()
  due = os.date("!%Y-%m-%d", os.time() + 7 * 86400)
end

function request()
  local p = c.pick()
  local body = string.format(
    '{"kind":"deferred_payment","store_id":"%s","reason_code":"closing_time",' ..
    '"story":"load test: pay tomorrow","amount":{"amount":"1.00","currency":"USD"},"due_on":"%s"}',
    p[3], due)
  return wrk.format("POST", "/v1/customers/" .. p[2] .. "/gestures",
    c.headers({ ["Idempotency-Key"] = c.key() }), body)
end

function response(status, headers, body)
  c.count(status)
  c.publish()
end

function done(summary, latency, requests) c.done(summary, latency, requests) end
