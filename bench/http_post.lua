-- wrk script: POST the JSON bodies of a file (one per line) in turn.
--   wrk -t1 -c16 -d10s --latency -s bench/http_post.lua http://127.0.0.1:8000/v1/score -- bodies.jsonl
local bodies = {}
local next_body = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[next_body])
end
