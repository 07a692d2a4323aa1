//! Commands sent to devices and what became of them (CONTRACT §9): each command is `pending`
//! until its device answers on `command/result` (`ok` or `failed`, with the device's error) or
//! until it has waited `ALICIA_COMMAND_TIMEOUT_SECS` (`timeout`). The last 1,000 are kept, so
//! every client — the app, REST, socket.io — can learn the outcome by `request_id`.

use crate::clock::now_rfc3339;
pub use alicia_model::commands::{CommandRecord, CommandStatus};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Commands kept, newest last.
pub const COMMANDS_KEPT: usize = 1_000;
/// How long a result is waited for, unless `ALICIA_COMMAND_TIMEOUT_SECS` says otherwise.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The commands kept; cheap to clone.
#[derive(Debug, Clone)]
pub struct CommandLog {
    inner: Arc<Mutex<Kept>>,
    timeout: Duration,
}

#[derive(Debug, Default)]
struct Kept {
    by_id: HashMap<String, Arc<CommandRecord>>,
    /// When each pending command was sent, on this process's clock.
    sent: HashMap<String, Instant>,
    order: VecDeque<String>,
}

impl CommandLog {
    /// A log whose commands time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            inner: Arc::default(),
            timeout,
        }
    }

    /// Records a command just sent.
    pub fn sent(&self, request_id: &str, device_id: &str, command: &str) {
        let record = Arc::new(CommandRecord {
            request_id: request_id.to_owned(),
            device_id: device_id.to_owned(),
            command: command.to_owned(),
            status: CommandStatus::Pending,
            error: None,
            sent_at: now_rfc3339(),
            finished_at: None,
        });
        let mut kept = self.inner.lock();
        kept.by_id.insert(request_id.to_owned(), record);
        kept.sent.insert(request_id.to_owned(), Instant::now());
        kept.order.push_back(request_id.to_owned());
        while kept.order.len() > COMMANDS_KEPT {
            if let Some(oldest) = kept.order.pop_front() {
                kept.by_id.remove(&oldest);
                kept.sent.remove(&oldest);
            }
        }
    }

    /// A device's answer: the command it finishes, if this manager sent it to that device and
    /// it was still pending (a late or foreign answer changes nothing).
    pub fn answered(
        &self,
        request_id: &str,
        device_id: &str,
        ok: bool,
        error: Option<String>,
    ) -> Option<Arc<CommandRecord>> {
        let mut kept = self.inner.lock();
        let record = kept.by_id.get_mut(request_id)?;
        if record.device_id != device_id || record.status != CommandStatus::Pending {
            return None;
        }
        let finished = Arc::make_mut(record);
        finished.status = if ok {
            CommandStatus::Ok
        } else {
            CommandStatus::Failed
        };
        finished.error = if ok { None } else { error };
        finished.finished_at = Some(now_rfc3339());
        let answered = Arc::clone(record);
        kept.sent.remove(request_id);
        Some(answered)
    }

    /// Times out the commands that waited too long at `now`; returns them.
    pub fn expire(&self, now: Instant) -> Vec<Arc<CommandRecord>> {
        let mut kept = self.inner.lock();
        let Kept { by_id, sent, .. } = &mut *kept;
        let mut expired = Vec::new();
        for (id, record) in by_id.iter_mut() {
            let waited_too_long = sent
                .get(id)
                .is_some_and(|at| now.saturating_duration_since(*at) >= self.timeout);
            if record.status == CommandStatus::Pending && waited_too_long {
                sent.remove(id);
                let timed_out = Arc::make_mut(record);
                timed_out.status = CommandStatus::Timeout;
                timed_out.error = Some(format!(
                    "no answer from the device within {} s",
                    self.timeout.as_secs()
                ));
                timed_out.finished_at = Some(now_rfc3339());
                expired.push(Arc::clone(record));
            }
        }
        expired
    }

    /// A command by its `request_id`.
    pub fn get(&self, request_id: &str) -> Option<Arc<CommandRecord>> {
        self.inner.lock().by_id.get(request_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_answered_once_by_its_device_or_times_out() {
        let log = CommandLog::new(Duration::from_secs(10));
        log.sent("r1", "lamp", "turn_on");
        log.sent("r2", "lamp", "turn_off");
        assert_eq!(log.get("r1").unwrap().status, CommandStatus::Pending);
        assert!(log.answered("r1", "other-device", true, None).is_none());
        let done = log
            .answered("r1", "lamp", false, Some("jammed".into()))
            .unwrap();
        assert_eq!(
            (done.status, done.error.as_deref()),
            (CommandStatus::Failed, Some("jammed"))
        );
        assert!(log.answered("r1", "lamp", true, None).is_none(), "once");
        assert!(log.expire(Instant::now()).is_empty());
        let late = Instant::now() + Duration::from_secs(11);
        let expired = log.expire(late);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].request_id, "r2");
        assert_eq!(log.get("r2").unwrap().status, CommandStatus::Timeout);
        assert!(log.answered("r2", "lamp", true, None).is_none(), "too late");
    }

    #[test]
    fn the_newest_thousand_are_kept() {
        let log = CommandLog::new(DEFAULT_COMMAND_TIMEOUT);
        for i in 0..COMMANDS_KEPT + 5 {
            log.sent(&format!("r{i}"), "lamp", "ping");
        }
        assert!(log.get("r4").is_none());
        assert!(log.get("r5").is_some());
        assert!(log.get(&format!("r{}", COMMANDS_KEPT + 4)).is_some());
    }
}
