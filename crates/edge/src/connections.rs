//! How many connections the server may hold open: the configured cap, lowered below the
//! process's open-file limit so that accepting clients can never starve the database pool,
//! upstream calls or log files of descriptors (the failure mode where 1,100 half-open
//! connections locked every new client out).

/// Descriptors kept free for everything that is not a client connection.
const RESERVE: u64 = 128;

/// The soft open-file limit (`RLIMIT_NOFILE`) of this process, read from `/proc/self/limits`;
/// `None` where that file does not exist (not Linux) or says "unlimited".
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

fn parse_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The connection cap to use: `configured`, or fewer when the file limit is lower; at least 1.
pub fn connection_cap(configured: usize, file_limit: Option<u64>) -> usize {
    let Some(limit) = file_limit else {
        return configured.max(1);
    };
    let room = usize::try_from(limit.saturating_sub(RESERVE)).unwrap_or(usize::MAX);
    configured.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_files(limits), Some(1024));
        assert_eq!(
            parse_open_files("Max open files  unlimited unlimited files"),
            None
        );
    }

    #[test]
    fn the_cap_stays_below_the_file_limit() {
        assert_eq!(connection_cap(4096, Some(1024)), 896);
        assert_eq!(connection_cap(100, Some(1024)), 100);
        assert_eq!(connection_cap(4096, None), 4096);
        assert_eq!(connection_cap(4096, Some(10)), 1);
    }
}
