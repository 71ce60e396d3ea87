//! CPU time and memory of a child process, from Linux's /proc.

/// Clock ticks per second of `utime`/`stime` (USER_HZ, 100 on every Linux ABI we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// `utime + stime` in ticks, from the text of `/proc/<pid>/stat`. The command name (field 2)
/// may contain spaces and parentheses, so fields are counted after its last `)`.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `Vm...:  123 kB` line of `/proc/<pid>/status`, in kB.
pub fn status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// CPU seconds (user + system) the process has used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(cpu_ticks(&stat)? as f64 / TICKS_PER_SECOND)
}

/// Peak resident memory (VmHWM) in MiB since start or since the last [`reset_peak`].
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(status_kb(&status, "VmHWM")? as f64 / 1024.0)
}

/// Resets the peak-RSS mark (writes 5 to clear_refs, Linux ≥ 4.0), so the next
/// [`peak_rss_mib`] is the peak of the phase that follows. Returns whether it worked.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_after_a_tricky_command_name() {
        let stat = "4242 (licen) sedot) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    150 25 0 0 20 0 9 0 12345 100000000 5000 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(175));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_lines() {
        let status =
            "Name:\tlicensedot\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(status_kb(status, "VmHWM"), Some(51200));
        assert_eq!(status_kb(status, "VmRSS"), Some(40960));
        assert_eq!(status_kb(status, "VmSwap"), None);
    }
}
