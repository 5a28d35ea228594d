//! Retention (finding 6): a device cannot grow the database without bound, and history is
//! kept to the configured age and count per enrollment.

use crate::both;
use crate::harness::{Db, Harness, Opts};

fn ddm(endpoint: &str, data: Vec<u8>) -> [(&str, plist::Value); 2] {
    [("Endpoint", plist::Value::String(endpoint.into())), ("Data", plist::Value::Data(data))]
}

/// Every DeclarativeManagement check-in was appended forever; now the newest
/// `retention.declarative_per_enrollment` are kept, and a report larger than any device sends
/// is refused.
async fn declarative_messages_are_bounded_per_device(db: Db) {
    let Some(h) = Harness::start_with(db, Opts { max_body: 8 << 20, ..Opts::default() }).await else { return };
    let d = h.enrolled(0).await;
    let other = h.enrolled(1).await;
    other.raw_checkin("DeclarativeManagement", &ddm("status", b"{}".to_vec())).await.unwrap();
    for i in 0..45 {
        d.raw_checkin("DeclarativeManagement", &ddm("status", format!("{{\"n\": {i}, \"pad\": \"{}\"}}", "x".repeat(20_000)).into_bytes())).await.unwrap();
    }
    assert_eq!(h.count(&format!("declarative_messages WHERE enrollment_id = '{}'", d.udid)), 20);
    assert_eq!(h.count(&format!("declarative_messages WHERE enrollment_id = '{}'", other.udid)), 1, "other devices keep theirs");
    match d.raw_checkin("DeclarativeManagement", &ddm("status", vec![b' '; 3 << 20])).await {
        Err(mdm_sim::SimError::Status { status, body }) => assert_eq!(status, 400, "{body}"),
        other => panic!("{other:?}"),
    }
}
both!(declarative_messages_are_bounded_per_device);

/// The sweep keeps `per_enrollment` finished commands and results per enrollment and nothing older
/// than `max_age`; what is still to be delivered is never touched.
async fn history_is_swept_by_count_and_age(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    for _ in 0..8 {
        h.command_nopush("DeviceInformation", std::slice::from_ref(&d.udid)).await;
    }
    while !d.connect().await.unwrap().is_empty() {}
    let pending = h.command_nopush("ProfileList", std::slice::from_ref(&d.udid)).await;
    assert_eq!(pending, 200);
    let finished = format!("enrollment_queue WHERE enrollment_id = '{}' AND status = 'acknowledged'", d.udid);
    let results = format!("command_results WHERE enrollment_id = '{}'", d.udid);
    let blueprint = h.count(&finished);
    assert!(blueprint >= 8, "{blueprint}");
    let cfg = mdm::config::RetentionConfig { per_enrollment: 3, ..Default::default() };
    let swept = mdm::service::retention::sweep(&h.store, &cfg).await.unwrap();
    assert_eq!(h.count(&finished), 3);
    assert_eq!(h.count(&results), 3);
    assert!(swept.queue_rows >= 5 && swept.results >= 5, "{swept:?}");
    assert_eq!(h.count(&format!("enrollment_queue WHERE enrollment_id = '{}' AND status = 'queued'", d.udid)), 1, "pending command kept");
    // Age: everything finished is old now; the pending command and its row stay.
    h.sql("UPDATE command_results SET received_at = '2020-01-01 00:00:00'");
    h.sql("UPDATE enrollment_queue SET done_at = '2020-01-01 00:00:00' WHERE done_at IS NOT NULL");
    h.sql("UPDATE commands SET created_at = '2020-01-01 00:00:00'");
    let swept = mdm::service::retention::sweep(&h.store, &mdm::config::RetentionConfig::default()).await.unwrap();
    assert_eq!((h.count(&finished), h.count(&results)), (0, 0), "{swept:?}");
    assert_eq!(h.count("commands"), 1, "only the pending command is left");
    let got = d.connect().await.unwrap();
    assert_eq!(got.iter().map(|c| c.request_type.as_str()).collect::<Vec<_>>(), ["ProfileList"]);
}
both!(history_is_swept_by_count_and_age);
