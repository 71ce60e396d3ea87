//! Rate limits counted in Redis, shared by every replica that uses the same Redis: the same
//! GCRA as the in-memory limiter, run atomically by a Lua script on Redis's own clock (so the
//! replicas' clocks do not matter).

use std::{num::NonZeroU32, time::Duration};

use redis::{Client, RedisError, Script, aio::ConnectionManager, aio::ConnectionManagerConfig};

use super::Rate;

/// How long one limit check may wait for Redis before the request goes on unchecked.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// GCRA: KEYS[1] holds the sender's theoretical arrival time (ms). ARGV[1] is the interval
/// between requests at the steady rate (ms), ARGV[2] the burst, ARGV[3] how many units this
/// request counts for (1, or its weight). Returns 0 when the request is allowed (and counted),
/// else the milliseconds to wait.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local units = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval * units
local limit = now + interval * burst
if new_tat > limit then
  return new_tat - limit
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return 0
";

/// A managed connection, or why the Redis URL is unusable (reported by `ping` and on each check).
pub type Connection = Result<ConnectionManager, String>;

/// Connects lazily: the first check (or [`RedisLimiter::ping`]) opens the connection, and the
/// manager reconnects by itself after Redis restarts. Every limiter of a process shares it.
pub fn connect(url: &str) -> Connection {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT));
    Client::open(url)
        .and_then(|client| ConnectionManager::new_lazy_with_config(client, config))
        .map_err(|err| err.to_string())
}

pub(super) struct RedisLimiter {
    connection: Connection,
    script: Script,
    prefix: String,
    interval_ms: u64,
    burst: u32,
}

impl RedisLimiter {
    /// A limiter named `name` at `rate` over `connection` (see [`connect`]), its keys under
    /// `prefix`.
    pub(super) fn new(connection: &Connection, prefix: &str, name: &str, rate: Rate) -> Self {
        Self {
            connection: connection.clone(),
            script: Script::new(GCRA),
            // The period is part of the key, so replicas configured differently never read each
            // other's arrival times as their own.
            prefix: format!("{prefix}{name}:{}/{}s:", rate.count, rate.period.as_secs()),
            interval_ms: u64::try_from(rate.interval().as_millis()).unwrap_or(u64::MAX),
            burst: rate.count.get(),
        }
    }

    fn connection(&self) -> Result<ConnectionManager, String> {
        self.connection.clone()
    }

    /// `Ok(Err(wait))` when `key` has fewer than `n` left of its rate; `Err` when Redis could
    /// not tell.
    pub(super) async fn check(
        &self,
        key: &str,
        n: NonZeroU32,
    ) -> Result<Result<(), Duration>, String> {
        let mut connection = self.connection()?;
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation
            .arg(self.interval_ms)
            .arg(self.burst)
            .arg(n.get());
        let wait_ms: u64 =
            tokio::time::timeout(REDIS_TIMEOUT * 2, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|err: RedisError| err.to_string())?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms)),
        })
    }

    /// Checks that Redis answers.
    pub(super) async fn ping(&self) -> Result<(), String> {
        let mut connection = self.connection()?;
        tokio::time::timeout(
            REDIS_TIMEOUT * 4,
            redis::cmd("PING").query_async::<String>(&mut connection),
        )
        .await
        .map_err(|_| "timed out".to_owned())?
        .map(|_| ())
        .map_err(|err| err.to_string())
    }
}
