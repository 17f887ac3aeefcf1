-- wrk script for soak-cascade.sh: counts responses by status, by x-bulwark-error code and per
-- wall-clock second, and prints them from done() as "SOAK ..." lines for soak-report.py.
--
-- wrk runs every thread in its own Lua state, so response() only sees its own thread's globals.
-- The documented pattern: keep the thread objects from setup(), then in done() read each
-- thread's tables with thread:get() (wrk copies tables across states) and add them up.
-- wrk 4.1.0 (Debian) is fragile there: copying a table of tables crashes it (wg/wrk#399), and a
-- run with string keys built per response ("<second> <code>") came back with one garbled key. So
-- the copied tables are flat and keyed by numbers only: error codes are indexes into CODES below
-- (Bulwark's LocalReply codes); a code not in the list is still counted, by name, in `others`.

local CODES = { "bad_request", "no_route", "request_timeout", "body_too_large", "uri_too_long",
   "rate_limited", "headers_too_large", "not_implemented", "upstream_connect_failure",
   "upstream_reset", "upstream_protocol_error", "no_healthy_upstream", "circuit_open", "overloaded",
   "fault_injected", "upstream_timeout", "http_version_not_supported" }
local NONE, OTHER = 98, 99  -- non-2xx without the header; a code not in CODES
local INDEX = {}
for i, c in ipairs(CODES) do INDEX[c] = i end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}  -- status -> count
   errors = {}    -- code index -> count
   others = {}    -- code name -> count, for codes not in CODES (expected empty)
   sec_n = {}     -- epoch second -> responses
   sec_bad = {}   -- epoch second -> non-2xx responses
   sec_code = {}  -- epoch second * 100 + code index -> count
end

local function error_code(status, headers)
   local code = headers["x-bulwark-error"]
   if code == nil and (status < 200 or status > 299) then
      for k, v in pairs(headers) do
         if string.lower(k) == "x-bulwark-error" then
            return v
         end
      end
      return false  -- non-2xx, no header
   end
   return code
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   local now = os.time()
   sec_n[now] = (sec_n[now] or 0) + 1
   if status < 200 or status > 299 then
      sec_bad[now] = (sec_bad[now] or 0) + 1
   end
   local code = error_code(status, headers)
   if code ~= nil then
      local idx = NONE
      if code then
         idx = INDEX[code] or OTHER
         if idx == OTHER then
            others[code] = (others[code] or 0) + 1
         end
      end
      errors[idx] = (errors[idx] or 0) + 1
      local key = now * 100 + idx
      sec_code[key] = (sec_code[key] or 0) + 1
   end
end

local function add(into, from)
   for k, v in pairs(from or {}) do
      into[k] = (into[k] or 0) + v
   end
end

local function name(idx)
   if idx == NONE then return "(none)" end
   if idx == OTHER then return "(other)" end
   return CODES[idx]
end

function done(summary, latency, requests)
   local st, er, ot, n, bad, codes = {}, {}, {}, {}, {}, {}
   for _, thread in ipairs(threads) do
      add(st, thread:get("statuses"))
      add(er, thread:get("errors"))
      add(ot, thread:get("others"))
      add(n, thread:get("sec_n"))
      add(bad, thread:get("sec_bad"))
      add(codes, thread:get("sec_code"))
   end
   local e = summary.errors
   io.write(string.format("SOAK summary requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("SOAK latency_us p50=%d p90=%d p99=%d max=%d\n",
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
   for k, v in pairs(st) do
      io.write(string.format("SOAK status %d %d\n", k, v))
   end
   for k, v in pairs(er) do
      io.write(string.format("SOAK error %s %d\n", name(k), v))
   end
   for k, v in pairs(ot) do
      io.write(string.format("SOAK other %q %d\n", k, v))
   end
   for t, v in pairs(n) do
      io.write(string.format("SOAK sec %d %d %d\n", t, v, bad[t] or 0))
   end
   for k, v in pairs(codes) do
      local idx = k % 100
      io.write(string.format("SOAK seccode %d %s %d\n", (k - idx) / 100, name(idx), v))
   end
end
