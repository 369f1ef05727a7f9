-- (c) A POS-like mix: 35 % sales, 40 % customer summaries, 15 % small
-- gestures (deferred payments of 1.00), 10 % payments of 0.01 on seeded open
-- promises. Every POST carries an Idempotency-Key.
package.path = (os.getenv("LOAD_LUA") or ".") .. "/?.lua;" .. package.path
local c = require("common")

c.install()
function init_more()
  promises = c.read_lines(c.dir .. "/promises.tsv")
end

function request()
  local p = c.pick()
  local r = math.random(100)
  if r <= 35 then
    local body = string.format(
      '{"customer_id":"%s","store_id":"%s","sale_ref":"%s","occurred_at":"%s",' ..
      '"amount":{"amount":"%d.%02d","currency":"USD"}}',
      p[2], p[3], c.key(), os.date("!%Y-%m-%dT%H:%M:%SZ"), math.random(1, 120), math.random(0, 99))
    return wrk.format("POST", "/v1/sales", c.headers({ ["Idempotency-Key"] = c.key() }), body)
  elseif r <= 75 then
    return wrk.format("GET", "/v1/customers/" .. p[2] .. "/summary", c.headers())
  elseif r <= 90 then
    return c.pay_tomorrow(p)
  else
    local g = promises[math.random(#promises)]
    return wrk.format("POST", "/v1/gestures/" .. g[1] .. "/payments",
      c.headers({ ["Idempotency-Key"] = c.key() }),
      '{"amount":{"amount":"0.01","currency":"USD"}}')
  end
end


