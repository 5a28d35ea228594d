//! The names and outcomes of workflow actions as stored in `shared_actions`.

/// Outcome: queued or running, not yet known.
pub const PENDING: &str = "pending";
/// Outcome: done (the device answered Acknowledged, the connector succeeded).
pub const DONE: &str = "done";
/// Outcome: the connector answered that the user or install was not known there (not a failure).
pub const NOT_FOUND: &str = "not_found";
/// Outcome: failed (the device refused, the connector gave up after its retries).
pub const FAILED: &str = "failed";
/// Outcome: not needed on this device (nothing to clear, not a Shared iPad).
pub const SKIPPED: &str = "skipped";

/// Set the current user (holder or staging user).
pub const SET_USER: &str = "set_user";
/// Re-send the AppConfigs and profiles that depend on the user, install or remove held profiles.
pub const RESEND: &str = "resend";
/// Call a logout connector.
pub const LOGOUT: &str = "logout_connector";
/// ClearPasscode with the escrowed UnlockToken.
pub const CLEAR_PASSCODE: &str = "clear_passcode";
/// Remove and re-install an app whose data is cleared at check-in.
pub const CLEAR_APP_DATA: &str = "clear_app_data";
/// Shared iPad: LogOutUser.
pub const LOG_OUT_USER: &str = "log_out_user";
/// Shared iPad: DeleteUser.
pub const DELETE_USER: &str = "delete_user";
/// Emit the workflow's event.
pub const EVENT: &str = "event";
/// Check-in of the previous holder before a check-out.
pub const CHECKIN_PREVIOUS: &str = "checkin_previous";
/// A profile the pool holds while checked out (installed at check-out, removed at check-in).
pub const HELD_PROFILE: &str = "held_profile";

/// The steps run after the session's transaction, in order of `seq`.
pub const RUNNABLE: [&str; 5] = [RESEND, CLEAR_PASSCODE, CLEAR_APP_DATA, LOG_OUT_USER, DELETE_USER];
