//! The retention sweep every replica runs (`[retention]`): history past its age or count per
//! enrollment is deleted ([`crate::store::retention`]).

use crate::config::RetentionConfig;
use crate::store::retention::Swept;
use crate::store::{now, Store, StoreError};

/// One sweep now.
pub async fn sweep(store: &Store, cfg: &RetentionConfig) -> Result<Swept, StoreError> {
    let cutoff = if cfg.max_age.is_zero() {
        None
    } else {
        let age = chrono::Duration::from_std(cfg.max_age).map_err(|e| StoreError::Task(e.to_string()))?;
        now().checked_sub_signed(age)
    };
    store.retention().sweep_history(cutoff, cfg.per_enrollment, cfg.declarative_per_enrollment).await
}

/// Sweeps every `cfg.interval`, forever; failures are logged and the loop goes on.
pub async fn run(store: Store, cfg: RetentionConfig) {
    loop {
        match sweep(&store, &cfg).await {
            Ok(s) if s.total() > 0 => tracing::info!(
                results = s.results,
                queue_rows = s.queue_rows,
                commands = s.commands,
                app_events = s.app_events,
                declarative = s.declarative,
                "retention: old history deleted"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
        tokio::time::sleep(cfg.interval).await;
    }
}
