//! Background passes every replica runs (profile and app audits): a few passes per interval,
//! each failure logged and the loop kept going.

use std::future::Future;
use std::time::Duration;

/// Runs `pass(interval)` forever, pausing an eighth of `interval` (1 s to 1 h) between passes.
pub async fn every<F, Fut, E>(interval: Duration, what: &'static str, mut pass: F)
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    let pause = (interval / 8).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    loop {
        tokio::time::sleep(pause).await;
        if let Err(e) = pass(interval).await {
            tracing::error!(error = %e, "{what} failed");
        }
    }
}
