//! The markdown report: medians of the repeated runs, ratios to the floor, the scale curve and
//! the targets.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::options::{RunOptions, Variant};
use crate::scenarios::Scenario;
use crate::stats::{Latency, median_of};
use crate::verify::Verified;

/// One measured phase.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    pub requests_per_second: f64,
    pub latency: Latency,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// License-database statements per request.
    pub sql_per_request: Option<f64>,
    /// `_entities` calls to the version service per request.
    pub upstream_per_request: Option<f64>,
    /// Version-database statements per request.
    pub version_sql_per_request: Option<f64>,
    /// Gateway CPU (user + system) per request.
    pub cpu_ms_per_request: Option<f64>,
    /// License-database CPU per request: the PostgreSQL backends serving the license
    /// database (user + system, from /proc; the database runs on this machine).
    pub db_cpu_ms_per_request: Option<f64>,
    /// Gateway peak RSS during the phase.
    pub peak_mib: Option<f64>,
    /// Version-service CPU (user + system) per request.
    pub version_cpu_ms_per_request: Option<f64>,
    /// Gateway answers' bodies as received (compressed when they came so), per request.
    pub body_bytes_per_request: Option<f64>,
    /// Gateway answers' status lines and headers (HTTP/1.1 text form), per request.
    pub header_bytes_per_request: Option<f64>,
}

/// Which side a measure is of: a gateway variant (by its label) or the floor.
#[derive(Clone, Debug)]
pub enum Side {
    Gateway(String),
    Floor,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Side::Gateway(label) if label == "A" => f.pad("Gateway"),
            Side::Gateway(label) => f.pad(&format!("GW {label}")),
            Side::Floor => f.pad("Floor"),
        }
    }
}

/// The repeated measures of one scenario at one concurrency.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    /// The first variant (gateway A, plain), the one compared with the floor.
    pub gateway: Vec<Measure>,
    pub floor: Vec<Measure>,
    /// The other variants, in `RunOptions::variants` order from the second.
    pub more: Vec<Vec<Measure>>,
}

impl Cell {
    /// The measures of variant `i` (0 = `gateway`).
    pub fn variant(&self, i: usize) -> &[Measure] {
        match i {
            0 => &self.gateway,
            _ => self.more.get(i - 1).map_or(&[], Vec::as_slice),
        }
    }

    pub fn variant_mut(&mut self, i: usize) -> &mut Vec<Measure> {
        if i == 0 {
            return &mut self.gateway;
        }
        if self.more.len() < i {
            self.more.resize_with(i, Vec::new);
        }
        &mut self.more[i - 1]
    }
}

/// Medians of one side's repeated measures.
#[derive(Clone, Copy, Debug, Default)]
pub struct Medians {
    pub rps: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub sql: Option<f64>,
    pub upstream: Option<f64>,
    pub version_sql: Option<f64>,
    pub cpu_ms: Option<f64>,
    pub db_cpu_ms: Option<f64>,
    pub peak_mib: Option<f64>,
    pub version_cpu_ms: Option<f64>,
    pub body_bytes: Option<f64>,
    pub header_bytes: Option<f64>,
    pub errors: u64,
    pub requests: u64,
}

impl Medians {
    pub fn of(measures: &[Measure]) -> Self {
        let m = |f: fn(&Measure) -> Option<f64>| median_of(measures.iter().map(f));
        Self {
            rps: m(|x| Some(x.requests_per_second)),
            p50: m(|x| Some(x.latency.p50_ms)),
            p90: m(|x| Some(x.latency.p90_ms)),
            p99: m(|x| Some(x.latency.p99_ms)),
            sql: m(|x| x.sql_per_request),
            upstream: m(|x| x.upstream_per_request),
            version_sql: m(|x| x.version_sql_per_request),
            cpu_ms: m(|x| x.cpu_ms_per_request),
            db_cpu_ms: m(|x| x.db_cpu_ms_per_request),
            // The worst phase, not the median: a memory ceiling is about the peak.
            peak_mib: measures.iter().filter_map(|x| x.peak_mib).reduce(f64::max),
            version_cpu_ms: m(|x| x.version_cpu_ms_per_request),
            body_bytes: m(|x| x.body_bytes_per_request),
            header_bytes: m(|x| x.header_bytes_per_request),
            errors: measures.iter().map(|x| x.errors).sum(),
            requests: measures.iter().map(|x| x.requests).sum(),
        }
    }
}

/// What the report says besides the numbers.
pub struct Context {
    pub metadata: BTreeMap<String, String>,
    pub options: RunOptions,
    pub dashboard_licenses: Vec<i64>,
    pub final_peak_mib: Option<f64>,
    /// Every gateway variant measured, the first the one of the main table.
    pub variants: Vec<Variant>,
    /// What the check before the phases found, when there was more than one variant.
    pub verified: Option<Verified>,
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// One line of progress on stderr.
pub fn progress(
    round: usize,
    scenario: Scenario,
    concurrency: usize,
    side: &Side,
    m: &Measure,
) -> String {
    let mut line = format!(
        "[{round}] {scenario:<13} c={concurrency:<3} {side:<10} {:>8.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  sql/req {}  upstream/req {}  cpu ms/req {}  db cpu ms/req {}  vs cpu ms/req {}  body B/req {}  peak MiB {}  errors {}",
        m.requests_per_second,
        m.latency.p50_ms,
        m.latency.p99_ms,
        num(m.sql_per_request, 2),
        num(m.upstream_per_request, 2),
        num(m.cpu_ms_per_request, 2),
        num(m.db_cpu_ms_per_request, 2),
        num(m.version_cpu_ms_per_request, 2),
        num(m.body_bytes_per_request, 0),
        num(m.peak_mib, 1),
        m.errors,
    );
    if let Some(e) = &m.first_error {
        let short: String = e.chars().take(300).collect();
        let _ = write!(line, "  first error: {short}");
    }
    line
}

/// A target and how it fared.
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// "gateway vs floor = ratio×" in `unit` with `digits` decimals, and the ratio.
fn versus(
    gateway: Option<f64>,
    floor: Option<f64>,
    unit: &str,
    digits: usize,
) -> (String, Option<f64>) {
    let r = ratio(gateway, floor);
    let measured = format!(
        "{}{unit} vs {}{unit} = {}×",
        num(gateway, digits),
        num(floor, digits),
        num(r, 2)
    );
    (measured, r)
}

fn verdicts(cells: &BTreeMap<(Scenario, usize), (Medians, Medians)>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let get = |s: Scenario, c: usize| cells.get(&(s, c));

    let scale: Vec<(u32, Option<f64>)> = cells
        .iter()
        .filter_map(|((s, c), (g, _))| match s {
            Scenario::Scale(n) if *c == 1 => Some((*n, g.upstream)),
            _ => None,
        })
        .collect();
    if !scale.is_empty() {
        let values: Vec<f64> = scale.iter().filter_map(|(_, u)| *u).collect();
        let constant =
            values.len() == scale.len() && values.windows(2).all(|w| (w[0] - w[1]).abs() < 0.01);
        out.push(Verdict {
            target: "upstream calls per dashboard constant from 1 to 1,000 licenses".into(),
            measured: scale
                .iter()
                .map(|(n, u)| format!("{n}: {}", num(*u, 2)))
                .collect::<Vec<_>>()
                .join(", "),
            met: (values.len() == scale.len()).then_some(constant),
        });
    }
    for (&(s, c), (g, f)) in cells {
        if c == 1 && s.has_floor() {
            let (measured, r) = versus(g.p50, f.p50, " ms", 2);
            out.push(Verdict {
                target: format!("{s}: gateway p50 at concurrency 1 ≤ 1.5× floor"),
                measured,
                met: r.map(|r| r <= 1.5),
            });
        }
    }
    // Issue 11: a gateway that talks to its database directly should come close to the SQL and
    // the upstream call it makes.
    for (&(s, c), (g, f)) in cells {
        if c == 32 && s.has_floor() {
            let (measured, r) = versus(g.rps, f.rps, " req/s", 0);
            out.push(Verdict {
                target: format!("{s}: gateway throughput at concurrency 32 ≥ 0.9× floor"),
                measured,
                met: r.map(|r| r >= 0.9),
            });
        }
    }
    // The gateway's own work, and what it costs the license database, per dashboard (issue
    // 11: at most 1.5 ms of gateway CPU; the database no busier than for the floor's
    // statements, within a tenth for noise).
    if let Some((g, f)) = get(Scenario::Dashboard, 32) {
        out.push(Verdict {
            target: "dashboard: gateway CPU ≤ 1.5 ms per request at concurrency 32".into(),
            measured: format!("{} ms", num(g.cpu_ms, 2)),
            met: g.cpu_ms.map(|ms| ms <= 1.5),
        });
        let (measured, r) = versus(g.db_cpu_ms, f.db_cpu_ms, " ms", 2);
        out.push(Verdict {
            target: "dashboard: license-database CPU per request ≤ 1.1× floor at concurrency 32"
                .into(),
            measured,
            met: r.map(|r| r <= 1.1),
        });
    }
    if let Some((g, _)) = get(Scenario::Search, 1) {
        out.push(Verdict {
            target: "search p50 < 10 ms (concurrency 1)".into(),
            measured: format!("{} ms", num(g.p50, 2)),
            met: g.p50.map(|p| p < 10.0),
        });
    }
    if let Some((g, _)) = get(Scenario::Trials, 1) {
        out.push(Verdict {
            target: "trials report (a quarter, by month) p50 < 100 ms (concurrency 1)".into(),
            measured: format!("{} ms", num(g.p50, 2)),
            met: g.p50.map(|p| p < 100.0),
        });
    }
    let peaks: Vec<(Scenario, f64)> = cells
        .iter()
        .filter_map(|((s, c), (g, _))| (*c == 128).then_some((*s, g.peak_mib?)))
        .collect();
    if let Some((worst_s, worst)) = peaks
        .iter()
        .copied()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
    {
        out.push(Verdict {
            target: "gateway memory < 100 MB at concurrency 128".into(),
            measured: format!(
                "peak RSS {worst:.1} MiB ({worst_s}); {}",
                peaks
                    .iter()
                    .map(|(s, p)| format!("{s} {p:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            met: Some(worst * 1.048_576 < 100.0),
        });
    }
    out
}

/// The whole report.
pub fn render(context: &Context, raw: &BTreeMap<(Scenario, usize), Cell>) -> String {
    let cells: BTreeMap<(Scenario, usize), (Medians, Medians)> = raw
        .iter()
        .map(|(k, c)| (*k, (Medians::of(&c.gateway), Medians::of(&c.floor))))
        .collect();
    let o = &context.options;
    let mut out = String::new();
    let _ = writeln!(out, "## Results\n");
    let _ = writeln!(
        out,
        "Medians of {} run(s); each cell: {} ms warm-up, then {} ms measured per side. \
         Latencies in ms; SQL = license-database statements, upstream = `_entities` calls, \
         vSQL = version-database statements, all per request; CPU = gateway user+system ms per \
         request; DB CPU = license-database backends' user+system ms per request (gateway | floor); \
         peak = gateway VmHWM during the phase (worst run), MiB.\n",
        o.repeat,
        o.warmup.as_millis(),
        o.duration.as_millis()
    );
    let m = &context.metadata;
    let meta = |k: &str| m.get(k).map_or("?", String::as_str);
    let _ = writeln!(
        out,
        "Data set: {} customers, {} licenses, {} hostnames, {} hosts, {} usage pings (seed {}, as of {}); \
         loaded in {} s (+ {} s scale customers, {} s VACUUM ANALYZE). Dashboard customers have {}–{} licenses.\n",
        meta("customers"),
        meta("licenses"),
        meta("hostnames"),
        meta("hosts"),
        meta("usage_pings"),
        meta("seed"),
        meta("today"),
        meta("load_seconds"),
        meta("scale_seconds"),
        meta("analyze_seconds"),
        context
            .dashboard_licenses
            .iter()
            .min()
            .copied()
            .unwrap_or(0),
        context
            .dashboard_licenses
            .iter()
            .max()
            .copied()
            .unwrap_or(0),
    );
    let _ = writeln!(
        out,
        "| scenario | conc | gw req/s | floor req/s | req/s ratio | gw p50 | gw p90 | gw p99 | floor p50 | floor p99 | p50 ratio | gw SQL | floor SQL | gw upstream | floor upstream | gw vSQL | gw CPU ms | gw DB CPU ms | floor DB CPU ms | gw peak MiB | errors/requests |"
    );
    let _ = writeln!(
        out,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for ((s, c), (g, f)) in &cells {
        let _ = writeln!(
            out,
            "| {s} | {c} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} |",
            num(g.rps, 0),
            num(f.rps, 0),
            num(ratio(g.rps, f.rps), 2),
            num(g.p50, 2),
            num(g.p90, 2),
            num(g.p99, 2),
            num(f.p50, 2),
            num(f.p99, 2),
            num(ratio(g.p50, f.p50), 2),
            num(g.sql, 1),
            num(f.sql, 1),
            num(g.upstream, 2),
            num(f.upstream, 2),
            num(g.version_sql, 1),
            num(g.cpu_ms, 2),
            num(g.db_cpu_ms, 2),
            num(f.db_cpu_ms, 2),
            num(g.peak_mib, 0),
            g.errors + f.errors,
            g.requests + f.requests,
        );
    }

    let scale: Vec<_> = cells
        .iter()
        .filter(|((s, c), _)| matches!(s, Scenario::Scale(_)) && *c == 1)
        .collect();
    if !scale.is_empty() {
        let _ = writeln!(out, "\n### Scale curve (dashboard query, concurrency 1)\n");
        let _ = writeln!(
            out,
            "| licenses | gw p50 | floor p50 | p50 ratio | gw SQL | gw upstream | floor upstream | gw CPU ms | gw peak MiB |"
        );
        let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for ((s, _), (g, f)) in scale {
            if let Scenario::Scale(n) = s {
                let _ = writeln!(
                    out,
                    "| {n} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    num(g.p50, 2),
                    num(f.p50, 2),
                    num(ratio(g.p50, f.p50), 2),
                    num(g.sql, 1),
                    num(g.upstream, 2),
                    num(f.upstream, 2),
                    num(g.cpu_ms, 2),
                    num(g.peak_mib, 0),
                );
            }
        }
    }

    let _ = writeln!(out, "\n### Targets\n");
    let _ = writeln!(out, "| target | measured | |\n|---|---|---|");
    for v in verdicts(&cells) {
        let mark = match v.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "n/a",
        };
        let _ = writeln!(out, "| {} | {} | {mark} |", v.target, v.measured);
    }
    if let Some(p) = context.final_peak_mib {
        let _ = writeln!(out, "\nGateway VmHWM at the end of the run: {p:.1} MiB.");
    }
    if context.variants.len() > 1 {
        render_variants(&mut out, context, raw);
    }
    out
}

/// The variants side by side, each with its ratios to the first (gateway A, plain).
fn render_variants(out: &mut String, context: &Context, raw: &BTreeMap<(Scenario, usize), Cell>) {
    let o = &context.options;
    let _ = writeln!(out, "\n### Variants\n");
    let env = |pairs: &[(String, String)]| {
        if pairs.is_empty() {
            "nothing".to_owned()
        } else {
            pairs
                .iter()
                .map(|(k, v)| format!("`{k}={v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let b = if o.compare_env.is_empty() {
        String::new()
    } else {
        format!("; B = A plus {}", env(&o.compare_env))
    };
    let _ = writeln!(
        out,
        "A = the gateway with {}{b}; [x] = the request sends `Accept-Encoding: x` (without it, \
         none is sent). Every cell measures the variants back to back on the same inputs, their \
         order reversed every other run. Body = response body bytes per request as received \
         (compressed or not), headers = status line and headers in HTTP/1.1 text form; CPU = \
         gateway, vs CPU = version service, user+system ms per request. Ratios are to A.\n",
        env(&o.gateway_env),
    );
    if let Some(v) = &context.verified {
        let _ = writeln!(
            out,
            "Checked before the phases: {} answers through the other variants identical (decoded, \
             as JSON) to gateway A's plain answers to the same requests. Sizes seen then (body bytes \
             per answer as received / decoded, and the codings chosen):\n",
            v.compared
        );
        for ((scenario, label), seen) in &v.seen {
            let n = seen.answers.max(1) as f64;
            let codings = seen
                .codings
                .iter()
                .map(|(c, k)| format!("{c} {k}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "- {scenario} via {label}: {:.0} / {:.0} bytes ({codings})",
                seen.wire_bytes as f64 / n,
                seen.plain_bytes as f64 / n,
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "| scenario | conc | variant | req/s | p50 | p99 | CPU ms | vs CPU ms | body B | headers B | req/s ÷ A | p50 ÷ A | CPU ÷ A | vs CPU ÷ A | body ÷ A | errors/requests |"
    );
    let _ = writeln!(
        out,
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for ((s, c), cell) in raw {
        let base = Medians::of(cell.variant(0));
        for (i, variant) in context.variants.iter().enumerate() {
            let m = Medians::of(cell.variant(i));
            let _ = writeln!(
                out,
                "| {s} | {c} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} |",
                variant.label(),
                num(m.rps, 0),
                num(m.p50, 2),
                num(m.p99, 2),
                num(m.cpu_ms, 2),
                num(m.version_cpu_ms, 2),
                num(m.body_bytes, 0),
                num(m.header_bytes, 0),
                num(ratio(m.rps, base.rps), 2),
                num(ratio(m.p50, base.p50), 2),
                num(ratio(m.cpu_ms, base.cpu_ms), 2),
                num(ratio(m.version_cpu_ms, base.version_cpu_ms), 2),
                num(ratio(m.body_bytes, base.body_bytes), 3),
                m.errors,
                m.requests,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(rps: f64, p50: f64, upstream: f64) -> Measure {
        Measure {
            requests_per_second: rps,
            latency: Latency {
                p50_ms: p50,
                p90_ms: p50,
                p99_ms: p50,
            },
            requests: 10,
            upstream_per_request: Some(upstream),
            ..Measure::default()
        }
    }

    #[test]
    fn variants_are_compared_with_the_first() {
        let options = RunOptions {
            licensedot: None,
            scenarios: vec![Scenario::Dashboard],
            concurrency: vec![8],
            warmup: std::time::Duration::ZERO,
            duration: std::time::Duration::ZERO,
            repeat: 1,
            out: None,
            floor: false,
            gateway_env: Vec::new(),
            accept_encodings: vec!["gzip, br".into()],
            compare_env: Vec::new(),
        };
        let mut plain = measure(100.0, 4.0, 1.0);
        plain.body_bytes_per_request = Some(20_000.0);
        plain.cpu_ms_per_request = Some(2.0);
        let mut compressed = measure(80.0, 5.0, 1.0);
        compressed.body_bytes_per_request = Some(2_000.0);
        compressed.cpu_ms_per_request = Some(3.0);
        let mut cell = Cell::default();
        cell.variant_mut(1).push(compressed);
        cell.variant_mut(0).push(plain);
        assert_eq!(cell.variant(1).len(), 1);
        assert!(cell.variant(2).is_empty());
        let context = Context {
            metadata: BTreeMap::new(),
            variants: options.variants(),
            options,
            dashboard_licenses: vec![20],
            final_peak_mib: None,
            verified: None,
        };
        let text = render(
            &context,
            &BTreeMap::from([((Scenario::Dashboard, 8), cell)]),
        );
        assert!(
            text.contains("| dashboard | 8 | A [gzip, br] | 80 | 5.00 | 5.00 | 3.00 | n/a | 2000 | n/a | 0.80 | 1.25 | 1.50 | n/a | 0.100 | 0/10 |"),
            "{text}"
        );
        assert!(text.contains("| dashboard | 8 | A | 100 |"), "{text}");
    }

    #[test]
    fn medians_and_verdicts() {
        let mut cells = BTreeMap::new();
        for n in [1, 1000] {
            let upstream = if n == 1 { 1.0 } else { 15.0 };
            cells.insert(
                (Scenario::Scale(n), 1),
                (
                    Medians::of(&[measure(10.0, 4.0, upstream)]),
                    Medians::of(&[measure(20.0, 2.0, 1.0)]),
                ),
            );
        }
        let g = Medians::of(&[
            measure(100.0, 3.0, 1.0),
            measure(300.0, 1.0, 1.0),
            measure(200.0, 2.0, 1.0),
        ]);
        assert_eq!((g.rps, g.p50), (Some(200.0), Some(2.0)));
        cells.insert(
            (Scenario::Search, 1),
            (g, Medians::of(&[measure(250.0, 1.5, 0.0)])),
        );
        let mut dashboard = measure(100.0, 3.0, 1.0);
        dashboard.cpu_ms_per_request = Some(1.4);
        dashboard.db_cpu_ms_per_request = Some(2.0);
        let mut floor = measure(100.0, 3.0, 1.0);
        floor.db_cpu_ms_per_request = Some(1.5);
        cells.insert(
            (Scenario::Dashboard, 32),
            (Medians::of(&[dashboard]), Medians::of(&[floor])),
        );
        let v = verdicts(&cells);
        assert_eq!(v[0].met, Some(false), "{}", v[0].measured);
        let met = |prefix: &str| v.iter().find(|v| v.target.starts_with(prefix)).unwrap().met;
        assert_eq!(met("dashboard: gateway CPU"), Some(true));
        assert_eq!(met("dashboard: license-database CPU"), Some(false));
        let search = v
            .iter()
            .find(|v| v.target.starts_with("search: gateway p50"))
            .unwrap();
        assert_eq!(search.met, Some(true), "{}", search.measured);
        let scale = v
            .iter()
            .find(|v| v.target.starts_with("scale-1000"))
            .unwrap();
        assert_eq!(scale.met, Some(false));
    }
}
