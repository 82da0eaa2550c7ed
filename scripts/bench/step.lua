-- wrk script: `fireTransition` of the toy workflow's `note` step, each thread on its own case.
-- Run with as many threads as connections (-t N -c N): a thread's connection then sends one
-- request at a time, so the thread knows the case's version and sends it as
-- `expectedVersion`, like a real client.
--   wrk -t N -c N -d 10s -s step.lua URL/graphql -- TOKEN VERSION CASE_1 ... CASE_N
-- A response that is not HTTP 200 or carries GraphQL `errors` counts as an error (the
-- first one is printed); the version moves on only on success.
-- Prints `RESULT ok_per_s=… p50_ms=… p99_ms=… max_ms=… errors=…`.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("idx", count)
  table.insert(threads, thread)
end

local query = "mutation($i: FireInput!) { fireTransition(input: $i) { case { version } } }"

function init(args)
  token = args[1]
  version = tonumber(args[2])
  case = args[idx + 2]
  ok = 0
  errors = 0
  first_error = ""
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
  wrk.headers["authorization"] = "Bearer " .. token
end

function request()
  local body = string.format(
    '{"query":"%s","variables":{"i":{"caseId":"%s","transition":"note","expectedVersion":%d,"inputs":{"text":"bench"}}}}',
    query, case, version)
  return wrk.format(nil, "/graphql", nil, body)
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then
    ok = ok + 1
    version = version + 1
  else
    errors = errors + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local oks, errs = 0, 0
  for _, t in ipairs(threads) do
    oks = oks + t:get("ok")
    errs = errs + t:get("errors")
    local e = t:get("first_error")
    if e ~= "" then
      io.write("first error: " .. e .. "\n")
    end
  end
  io.write(string.format("RESULT ok_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
    oks / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errs))
end
