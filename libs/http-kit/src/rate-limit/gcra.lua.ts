/**
 * GCRA (generic cell rate algorithm, a token bucket kept as one timestamp) over several budgets at
 * once, all or nothing, in one round-trip. Each budget allows `limit` units per `window`: a burst
 * of `limit` after a quiet spell, then one unit every `window / limit`.
 *
 * Per budget the key holds its TAT ("theoretical arrival time", µs since the epoch): the moment at
 * which the budget would be full again. A request of cost c moves it c·interval into the future
 * and is allowed while it stays within `window` of now. A refused request changes nothing, so
 * hammering while refused does not prolong the wait; and when one budget refuses, none is charged.
 * The clock is Redis's (TIME), so replicas with skewed clocks still share one budget. A key expires
 * when its budget is full again, so idle clients cost no memory.
 *
 * KEYS[i]      the key of budget i
 * ARGV[4i-3]   limit: units per window
 * ARGV[4i-2]   window in µs (interval = window / limit, may be fractional)
 * ARGV[4i-1]   cost in units (1 ≤ cost ≤ limit)
 * ARGV[4i]     want: units to take if the budget has them (cost ≤ want ≤ limit); the units beyond
 *              the cost are a lease the caller spends on later requests without asking again
 * Returns one flat list, six integers per budget:
 *   allowed (1|0), remaining units after this request, ms until this request would be allowed
 *   (0 when allowed), ms until one more unit is available (0 when full), ms until the budget is
 *   full, units granted (cost ≤ granted ≤ want when allowed; 0 when nothing was charged).
 *
 * Floating point: offsets from now are small numbers (≤ window), compared with a tolerance of
 * 1 µs so that `limit` requests at one instant fit exactly although window / limit is rounded.
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local TOL = 1
local n = #KEYS
local limits, intervals, windows, ds, nds, takes = {}, {}, {}, {}, {}, {}
local all = true
for i = 1, n do
  local limit = tonumber(ARGV[4 * i - 3])
  local window = tonumber(ARGV[4 * i - 2])
  local cost = tonumber(ARGV[4 * i - 1])
  local want = tonumber(ARGV[4 * i])
  local interval = window / limit
  local stored = redis.call('GET', KEYS[i])
  local d = 0
  if stored then
    d = tonumber(stored) - now
    if d < 0 then d = 0 end
  end
  -- take as much of \`want\` as the budget holds, never less than the cost
  local take = math.floor((window + TOL - d) / interval)
  if take > want then take = want end
  if take < cost then take = cost end
  limits[i], intervals[i], windows[i], ds[i], takes[i] = limit, interval, window, d, take
  nds[i] = d + interval * take
  if nds[i] > window + TOL then all = false end
end
local out = {}
for i = 1, n do
  local interval, window = intervals[i], windows[i]
  local ok = nds[i] <= window + TOL
  -- where the budget stands after this request: charged only when every budget allowed it
  local x = ds[i]
  if all then x = nds[i] end
  local retry = 0
  if not ok then retry = nds[i] - window end
  local remaining = math.floor((window - x + TOL) / interval)
  if remaining < 0 then remaining = 0 end
  local nextUnit = 0
  if remaining < limits[i] then
    nextUnit = x - window + (remaining + 1) * interval
    if nextUnit < 0 then nextUnit = 0 end
  end
  local base = (i - 1) * 6
  out[base + 1] = ok and 1 or 0
  out[base + 2] = remaining
  out[base + 3] = math.ceil(retry / 1000)
  out[base + 4] = math.ceil(nextUnit / 1000)
  out[base + 5] = math.ceil(x / 1000)
  out[base + 6] = all and takes[i] or 0
end
if all then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%.17g', now + nds[i]), 'PX', math.ceil(nds[i] / 1000) + 1)
  end
end
return out
`;
