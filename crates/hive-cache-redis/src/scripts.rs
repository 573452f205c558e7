//! The Lua scripts (each runs atomically in Redis). They build key names from the prefix they
//! are given, so the level suits a standalone Redis (or one cluster slot), not Redis Cluster.

use redis::Script;

/// `GET` with the freshness check: returns the entry blob (see `entry.rs`) if its epoch and
/// every tag generation are those it was stamped with; deletes it and returns nil otherwise.
/// KEYS[1] = entry key; ARGV[1] = key prefix.
pub(crate) fn get() -> Script {
    Script::new(
        r"
local blob = redis.call('GET', KEYS[1])
if not blob then return false end
local function stale()
  redis.call('DEL', KEYS[1])
  return false
end
local newline = string.find(blob, '\n', 1, true)
if not newline then return stale() end
local numbers = {}
for number in string.gmatch(string.sub(blob, 1, newline - 1), '%d+') do
  numbers[#numbers + 1] = number
end
local count = tonumber(numbers[1])
if not count or #numbers ~= 2 + 2 * count then return stale() end
if numbers[2] ~= (redis.call('GET', ARGV[1] .. 'epoch') or '0') then return stale() end
local at = newline + 1
for i = 1, count do
  local length = tonumber(numbers[2 + count + i])
  local tag = string.sub(blob, at, at + length - 1)
  at = at + length
  if numbers[2 + i] ~= (redis.call('GET', ARGV[1] .. 'g:' .. tag) or '0') then return stale() end
end
return blob
",
    )
}

/// Gives every tag a new generation (one new value of the counter), kept `ARGV[2]` ms, and
/// publishes `ARGV[4]` on channel `ARGV[3]` (when not empty). A missing counter (a new
/// namespace, or a Redis that lost its data) starts at `ARGV[5]`, derived from the clock, so
/// generations never repeat one handed out before.
/// KEYS = generation keys; ARGV[1] = counter key.
pub(crate) fn invalidate() -> Script {
    Script::new(
        r"
redis.call('SET', ARGV[1], ARGV[5], 'NX')
local generation = redis.call('INCR', ARGV[1])
for _, key in ipairs(KEYS) do
  redis.call('SET', key, generation, 'PX', ARGV[2])
end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return generation
",
    )
}

/// Gives the whole cache a new epoch and publishes `ARGV[3]` on channel `ARGV[2]`; a missing
/// counter starts at `ARGV[4]` (see [`invalidate`]).
/// KEYS[1] = epoch key; ARGV[1] = counter key.
pub(crate) fn clear() -> Script {
    Script::new(
        r"
redis.call('SET', ARGV[1], ARGV[4], 'NX')
local generation = redis.call('INCR', ARGV[1])
redis.call('SET', KEYS[1], generation)
redis.call('PUBLISH', ARGV[2], ARGV[3])
return generation
",
    )
}

/// Takes lease `KEYS[1]` for `ARGV[2]` ms with token `ARGV[1]` if free; returns the new fencing
/// token (`INCR KEYS[2]`, a missing counter starting at `ARGV[3]`, from the clock), or 0 if held.
pub(crate) fn acquire() -> Script {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'NX')
  return redis.call('INCR', KEYS[2])
end
return 0
",
    )
}

/// Extends lease `KEYS[1]` to `ARGV[2]` ms if token `ARGV[1]` holds it (1), else 0.
pub(crate) fn renew() -> Script {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
}

/// Deletes lease `KEYS[1]` if token `ARGV[1]` holds it.
pub(crate) fn release() -> Script {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
}

/// Where a missing counter starts: the clock in milliseconds × 1024, so that counters started
/// again after Redis lost its data hand out larger values than before (while fewer than 1024
/// values per millisecond were used on average), and stay below 2^53 (exact in Lua).
pub(crate) fn counter_start() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    millis.saturating_mul(1024)
}
