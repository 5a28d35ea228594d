//! Push wake-up for simulated devices: pushes the mock APNs accepted are handed to the device
//! whose token they name, and that device runs its connection loop, as iOS does when the MDM
//! push arrives. A push carrying another PushMagic is ignored, as iOS ignores it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Mutex};

use super::SimDevice;
use crate::apns::ReceivedPush;

/// One connection loop a push caused.
#[derive(Debug, Clone)]
pub struct Woken {
    /// The device's UDID.
    pub udid: String,
    /// Commands it handled in that loop.
    pub handled: usize,
    /// Those commands, with the status the device answered.
    pub commands: Vec<super::Handled>,
    /// The loop's error, if it failed.
    pub error: Option<String>,
    /// When the loop ended.
    pub at: Instant,
}

/// Devices by token, each behind a lock so one device runs one loop at a time.
pub type DeviceMap = Arc<HashMap<String, Arc<Mutex<SimDevice>>>>;

/// Indexes `devices` by hex token.
pub fn by_token(devices: Vec<SimDevice>) -> DeviceMap {
    Arc::new(devices.into_iter().map(|d| (hex::encode(&d.token), Arc::new(Mutex::new(d)))).collect())
}

/// Spawns the dispatcher: every push from `pushes` for a known token (and that device's
/// PushMagic) makes the device connect, at most `concurrency` devices at a time (one simulator
/// process stands for a whole fleet of phones). Returns a receiver of the loops run.
pub fn wake_on_push(
    mut pushes: mpsc::UnboundedReceiver<ReceivedPush>,
    devices: DeviceMap,
    concurrency: usize,
) -> (tokio::task::JoinHandle<()>, mpsc::UnboundedReceiver<Woken>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let task = tokio::spawn(async move {
        while let Some(p) = pushes.recv().await {
            let Some(dev) = devices.get(&p.token_hex).cloned() else { continue };
            let tx = tx.clone();
            let permits = permits.clone();
            tokio::spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else { return };
                let mut d = dev.lock().await;
                if p.push_magic.as_deref() != Some(d.push_magic.as_str()) {
                    return;
                }
                let r = d.connect().await;
                let (commands, error) = match r {
                    Ok(h) => (h, None),
                    Err(e) => (Vec::new(), Some(e.to_string())),
                };
                let _ = tx.send(Woken { udid: d.udid.clone(), handled: commands.len(), commands, error, at: Instant::now() });
            });
        }
    });
    (task, rx)
}
