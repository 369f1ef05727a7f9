-- Shared by the load scenarios: the seeded picks, a per-thread random
-- generator, unique idempotency keys, and a tally of answers by status that
-- done() prints as one JSON line (read by run.sh).
--
-- Environment: LOAD_TOKEN (bearer token), LOAD_DIR (where picks.tsv and
-- promises.tsv are), LOAD_RUN (a nonce that makes keys unique across runs).

local M = {}

local threads = {}
local counter = 0

function M.read_lines(path)
  local rows = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if #line > 0 then
      local cols = {}
      for c in string.gmatch(line, "[^\t]+") do cols[#cols + 1] = c end
      rows[#rows + 1] = cols
    end
  end
  f:close()
  return rows
end

function M.setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  threads[#threads + 1] = thread
end

function M.init()
  M.token = os.getenv("LOAD_TOKEN")
  M.dir = os.getenv("LOAD_DIR")
  M.run = os.getenv("LOAD_RUN") or tostring(os.time())
  M.picks = M.read_lines(M.dir .. "/picks.tsv")
  M.n = 0
  math.randomseed(os.time() + tid * 7919)
  M.tally = {}
  M.kinds = {}
end

-- A deferred payment of 1.00, due in a week, for pick `p` (within a pos
-- token's self-grant limit, so it takes effect at once).
function M.pay_tomorrow(p)
  local body = string.format(
    '{"kind":"deferred_payment","store_id":"%s","reason_code":"closing_time",' ..
    '"story":"load test: pay tomorrow","amount":{"amount":"1.00","currency":"USD"},"due_on":"%s"}',
    p[3], os.date("!%Y-%m-%d", os.time() + 7 * 86400))
  return wrk.format("POST", "/v1/customers/" .. p[2] .. "/gestures",
    M.headers({ ["Idempotency-Key"] = M.key() }), body)
end

function M.key()
  M.n = M.n + 1
  return string.format("load-%s-%d-%d", M.run, tid, M.n)
end

function M.pick()
  return M.picks[math.random(#M.picks)]
end

function M.headers(extra)
  local h = {
    ["Authorization"] = "Bearer " .. M.token,
    ["Content-Type"] = "application/json",
  }
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return h
end

function M.count(status)
  local s = tostring(status)
  M.tally[s] = (M.tally[s] or 0) + 1
end

function M.done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local tally = t:get("tally_text") or ""
    for s, n in string.gmatch(tally, "(%d+)=(%d+)") do
      total[s] = (total[s] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for s, n in pairs(total) do parts[#parts + 1] = string.format('"%s": %d', s, n) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "socket_errors": %d, "status": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end

-- Threads publish their tally as text (tables do not cross Lua states).
function M.publish()
  local parts = {}
  for s, n in pairs(M.tally) do parts[#parts + 1] = s .. "=" .. n end
  tally_text = table.concat(parts, ",")
end

-- Installs the wrk callbacks every scenario shares; the scenario defines
-- request() (and init_more(), if it reads more files).
function M.install()
  setup = function(thread) M.setup(thread) end
  init = function(args)
    M.init()
    if init_more then init_more() end
  end
  response = function(status, headers, body)
    M.count(status)
    M.publish()
  end
  done = function(summary, latency, requests) M.done(summary, latency, requests) end
end

return M
