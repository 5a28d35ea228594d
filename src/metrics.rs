//! Prometheus metrics, served at `GET /metrics` (admin key required): pushes, requests by route
//! and status with their latency, and, read from the database at each scrape, the queue's depth
//! and oldest waiting command, enrollments by state, SCEP certificates issued and profile and
//! app install states.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets of the request histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

type Labels = Vec<(String, String)>;

/// The server's metrics. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Pushes by result (`sent`, `unregistered`, `retry`, ...).
    pub pushes: Family<Labels, Counter>,
    /// Days until each push certificate expires (negative once expired).
    pub push_cert_days_left: Family<Labels, Gauge>,
    /// Enrollments waiting for a (re-)push at the last scheduler pass.
    pub push_due: Gauge,
    /// Requests by route template, method and status.
    pub requests: Family<Labels, Counter>,
    /// Request latency by route template.
    pub request_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    /// Queue rows waiting for a device (at the last scrape).
    pub queue_depth: Gauge,
    /// Age of the oldest waiting queue row, in seconds (0 when none waits).
    pub queue_oldest_seconds: Gauge,
    /// Enrollments by channel and state.
    pub enrollments: Family<Labels, Gauge>,
    /// Certificates issued over SCEP, in all.
    pub scep_issued: Gauge,
    /// Library profiles per device by install state.
    pub device_profiles: Family<Labels, Gauge>,
    /// Managed apps per device by install state.
    pub device_apps: Family<Labels, Gauge>,
    /// Webhook deliveries by webhook and result (`delivered`, `failed`, `dead_lettered`).
    pub webhook_deliveries: Family<Labels, Counter>,
    /// Events past each enabled webhook's cursor (of any topic) and its replays waiting (at the
    /// last scrape).
    pub webhook_backlog: Family<Labels, Gauge>,
    /// Age of the oldest event some enabled webhook has yet to get, in seconds.
    pub events_oldest_undelivered_seconds: Gauge,
    /// Held while a scrape sets the snapshot gauges and renders, so that concurrent scrapes
    /// never see a family another one has just cleared.
    scrape: std::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mdm");
        let pushes = Family::<Labels, Counter>::default();
        registry.register("pushes", "APNs pushes by result", pushes.clone());
        let push_cert_days_left = Family::<Labels, Gauge>::default();
        registry.register("push_cert_days_left", "Days until the APNs push certificate expires", push_cert_days_left.clone());
        let push_due = Gauge::default();
        registry.register("push_due", "Enrollments claimed for a push in the last scheduler pass (0 when none were due)", push_due.clone());
        let requests = Family::<Labels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route, method and status", requests.clone());
        let request_seconds = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "HTTP request latency by route", request_seconds.clone());
        let queue_depth = Gauge::default();
        registry.register("queue_depth", "Commands waiting for a device (queued or NotNow)", queue_depth.clone());
        let queue_oldest_seconds = Gauge::default();
        registry.register("queue_oldest_seconds", "Age of the oldest command waiting for a device", queue_oldest_seconds.clone());
        let enrollments = Family::<Labels, Gauge>::default();
        registry.register("enrollments", "Enrollments by channel and state (enrolled, pending, checked_out)", enrollments.clone());
        let scep_issued = Gauge::default();
        registry.register("scep_certificates_issued", "Certificates issued over SCEP", scep_issued.clone());
        let device_profiles = Family::<Labels, Gauge>::default();
        registry.register("device_profiles", "Library profiles on devices by install state", device_profiles.clone());
        let device_apps = Family::<Labels, Gauge>::default();
        registry.register("device_apps", "Managed apps on devices by install state", device_apps.clone());
        let webhook_deliveries = Family::<Labels, Counter>::default();
        registry.register("webhook_deliveries", "Webhook delivery attempts by webhook and result", webhook_deliveries.clone());
        let webhook_backlog = Family::<Labels, Gauge>::default();
        registry.register("webhook_backlog", "Events past each enabled webhook's cursor (any topic) and replays waiting", webhook_backlog.clone());
        let events_oldest_undelivered_seconds = Gauge::default();
        registry.register(
            "events_oldest_undelivered_seconds",
            "Age of the oldest event an enabled webhook has yet to get",
            events_oldest_undelivered_seconds.clone(),
        );
        Metrics {
            registry,
            webhook_deliveries,
            webhook_backlog,
            events_oldest_undelivered_seconds,
            pushes,
            push_cert_days_left,
            push_due,
            requests,
            request_seconds,
            queue_depth,
            queue_oldest_seconds,
            enrollments,
            scep_issued,
            device_profiles,
            device_apps,
            scrape: std::sync::Mutex::new(()),
        }
    }

    /// A scrape: sets the database-backed gauges from `snapshot` and renders, as one step.
    pub fn scrape(&self, snapshot: &crate::store::stats::Snapshot, now: chrono::NaiveDateTime) -> String {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.set_snapshot(snapshot, now);
        self.render()
    }

    /// Sets the database-backed gauges from a snapshot taken `now`.
    pub fn set_snapshot(&self, s: &crate::store::stats::Snapshot, now: chrono::NaiveDateTime) {
        self.queue_depth.set(s.queue_depth);
        self.queue_oldest_seconds.set(s.oldest_queued_at.map_or(0, |t| (now - t).num_seconds().max(0)));
        self.scep_issued.set(s.scep_issued);
        let label = |k: &str, v: &str| (k.to_string(), v.to_string());
        self.enrollments.clear();
        for (channel, state, n) in &s.enrollments {
            self.enrollments.get_or_create(&vec![label("channel", channel), label("state", state)]).set(*n);
        }
        for (family, rows) in [(&self.device_profiles, &s.profiles), (&self.device_apps, &s.apps)] {
            family.clear();
            for (state, n) in rows {
                family.get_or_create(&vec![label("state", state)]).set(*n);
            }
        }
        self.webhook_backlog.clear();
        for b in &s.webhooks {
            self.webhook_backlog.get_or_create(&vec![label("webhook", &b.name)]).set(b.events);
        }
        let oldest = s.webhooks.iter().filter_map(|b| b.oldest).min();
        self.events_oldest_undelivered_seconds.set(oldest.map_or(0, |t| (now - t).num_seconds().max(0)));
    }

    /// Counts one push with `result`.
    pub fn count_push(&self, result: &str) {
        self.pushes.get_or_create(&vec![("result".to_string(), result.to_string())]).inc();
    }

    /// Sets the days-left gauge of `topic`.
    pub fn set_cert_days_left(&self, topic: &str, days: i64) {
        self.push_cert_days_left.get_or_create(&vec![("topic".to_string(), topic.to_string())]).set(days);
    }

    /// Forgets every certificate gauge (before setting the current ones after a reload).
    pub fn clear_cert_gauges(&self) {
        self.push_cert_days_left.clear();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Middleware: counts each request by route template (bounded: never the raw path, which
/// carries ids), method and status, and records its latency.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    // Any token is a valid method to hyper: only the standard ones become labels.
    let method = match *req.method() {
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::HEAD | Method::OPTIONS => req.method().as_str(),
        _ => "other",
    }
    .to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics.request_seconds.get_or_create(&vec![("route".to_string(), route.clone())]).observe(start.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&vec![("route".to_string(), route), ("method".to_string(), method), ("status".to_string(), status)]).inc();
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_counters_and_gauges() {
        let m = super::Metrics::new();
        m.count_push("sent");
        m.count_push("sent");
        m.set_cert_days_left("com.apple.mgmt.External.x", 12);
        let text = m.render();
        assert!(text.contains("mdm_pushes_total{result=\"sent\"} 2"), "{text}");
        assert!(text.contains("mdm_push_cert_days_left{topic=\"com.apple.mgmt.External.x\"} 12"), "{text}");
    }
}
