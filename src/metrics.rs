//! Prometheus metrics, served at `GET /metrics` (admin key required).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

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
        Metrics { registry, pushes, push_cert_days_left, push_due }
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
