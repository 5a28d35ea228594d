//! Many simulated devices at once: build, enroll and run command loops with bounded concurrency,
//! collecting counts and latencies for tests, `mdm sim` and `make bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::device::SimDevice;
use super::transport::Endpoint;
use super::SimError;

/// What a fleet operation did.
#[derive(Debug, Clone, Default)]
pub struct FleetStats {
    /// Devices for which the operation succeeded.
    pub ok: usize,
    /// Devices for which it failed.
    pub errors: usize,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// Commands handled (connect loops only).
    pub commands: usize,
}

impl FleetStats {
    /// Counts one device's outcome: the commands it handled, or its error (the first one is
    /// kept, named by the device).
    pub fn record(&mut self, udid: &str, outcome: Result<usize, String>) {
        match outcome {
            Ok(n) => {
                self.ok += 1;
                self.commands += n;
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{udid}: {e}"));
            }
        }
    }

    /// Adds another operation's counts to these (the elapsed time is left as it is).
    pub fn merge(&mut self, other: &FleetStats) {
        self.ok += other.ok;
        self.commands += other.commands;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error.clone();
        }
    }

    /// Operations per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A set of simulated devices sharing one endpoint.
#[derive(Debug)]
pub struct Fleet {
    /// The devices.
    pub devices: Vec<SimDevice>,
}

impl Fleet {
    /// Builds `n` devices whose identities come from the SCEP endpoint `scep_url`,
    /// `concurrency` enrollments at a time. `challenges` holds one challenge for all devices
    /// (a static one) or one per device (one-time challenges).
    pub async fn build_scep(n: usize, scep_url: &str, challenges: &[String], endpoint: Endpoint, concurrency: usize) -> Result<Fleet, SimError> {
        if challenges.is_empty() || (challenges.len() != 1 && challenges.len() != n) {
            return Err(SimError::Scep(format!("give one challenge or one per device ({n}), not {}", challenges.len())));
        }
        let endpoint = Arc::new(endpoint);
        let shared = endpoint.client(None)?;
        let enroller = super::scep::ScepEnroller::new(scep_url, shared.clone()).await?;
        let challenge = |i: usize| challenges.get(i).unwrap_or(&challenges[0]).as_str();
        let devices = futures::stream::iter((0..n).map(|i| SimDevice::enroll_scep(i, &enroller, challenge(i), endpoint.clone(), &shared)))
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Fleet { devices })
    }

    async fn each<F, Fut>(&mut self, concurrency: usize, f: F) -> FleetStats
    where
        F: Fn(SimDevice) -> Fut,
        Fut: std::future::Future<Output = (SimDevice, Result<usize, SimError>)>,
    {
        let start = Instant::now();
        let devices = std::mem::take(&mut self.devices);
        let mut stats = FleetStats::default();
        let mut back = Vec::with_capacity(devices.len());
        let mut stream = futures::stream::iter(devices.into_iter().map(f)).buffer_unordered(concurrency.max(1));
        while let Some((dev, r)) = stream.next().await {
            stats.record(&dev.udid, r.map_err(|e| e.to_string()));
            back.push(dev);
        }
        drop(stream);
        back.sort_by(|a, b| a.udid.cmp(&b.udid));
        self.devices = back;
        stats.elapsed = start.elapsed();
        stats
    }

    /// Enrolls every device (Authenticate + TokenUpdate).
    pub async fn enroll(&mut self, concurrency: usize) -> FleetStats {
        self.each(concurrency, |d| async move {
            let r = d.enroll().await.map(|_| 0);
            (d, r)
        })
        .await
    }

    /// Runs one connection loop on every device.
    pub async fn connect(&mut self, concurrency: usize) -> FleetStats {
        self.each(concurrency, |mut d| async move {
            let r = d.connect().await.map(|h| h.len());
            (d, r)
        })
        .await
    }

    /// Enrollment ids (device channels).
    pub fn ids(&self) -> Vec<String> {
        self.devices.iter().map(|d| d.udid.clone()).collect()
    }

    /// All command-endpoint latencies recorded so far, in microseconds, sorted.
    pub fn latencies_us(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.devices.iter().flat_map(|d| d.connect_latencies_us.iter().copied()).collect();
        all.sort_unstable();
        all
    }
}

/// The `p`-th percentile (0..=100) of sorted values.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
