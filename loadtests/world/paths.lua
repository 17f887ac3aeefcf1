-- wrk script: every request a different path under PREFIX (env WORLD_PREFIX), so no per-path cache can help.
local prefix = os.getenv("WORLD_PREFIX") or "/"
local counter = 0
math.randomseed(os.time())
local salt = math.random(1, 1000000)
request = function()
  counter = counter + 1
  return wrk.format("GET", prefix .. "item-" .. salt .. "-" .. counter .. "/detail")
end
