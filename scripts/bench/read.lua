-- wrk script: one GraphQL request (a JSON body in a file) sent again and again.
--   wrk -t 2 -c 32 -d 10s -s read.lua URL/graphql -- BODY_FILE [TOKEN]
-- A response that is not HTTP 200 or carries GraphQL `errors` counts as an error (the first
-- one is printed). Prints `RESULT ok_per_s=… p50_ms=… p99_ms=… max_ms=… errors=…`.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
  if args[2] and args[2] ~= "" then
    wrk.headers["authorization"] = "Bearer " .. args[2]
  end
  ok = 0
  errors = 0
  first_error = ""
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then
    ok = ok + 1
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
