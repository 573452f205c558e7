//! What the `harness = false` benches share: whether they measure or smoke-run, a size read
//! from the environment, and the summary of a set of latencies.

use std::time::Duration;

/// Whether the bench measures (`cargo bench` passes `--bench`) or is a smoke run (`cargo test`
/// runs bench targets without it).
pub fn measuring() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The whole number above 0 in the variable `env`, else `measured` when [`measuring`], else
/// `smoke`; a message naming the variable when it holds anything else.
pub fn size_from_env(env: &str, measured: u64, smoke: u64) -> Result<u64, String> {
    match std::env::var(env).map(|s| s.parse::<u64>()) {
        Err(_) if measuring() => Ok(measured),
        Err(_) => Ok(smoke),
        Ok(Ok(value)) if value > 0 => Ok(value),
        Ok(_) => Err(format!("{env} must be a whole number above 0")),
    }
}

/// `p50 … ms, p99 … ms, max … ms` of `samples` (sorted here; at least one).
pub fn latency_summary(samples: &mut [Duration]) -> String {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(samples[samples.len() - 1])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_takes_the_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(
            latency_summary(&mut samples),
            "p50 50.00 ms, p99 99.00 ms, max 100.00 ms"
        );
    }
}
