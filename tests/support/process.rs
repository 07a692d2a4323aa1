//! A child process's output and its stopping: what it writes to stdout and stderr, read on
//! threads, and SIGTERM with a patient wait.

use std::io::Read;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Reads the child's stdout (where the console log goes) and stderr (where a refused start is
/// explained), whichever are piped, each on a thread; returns a handle to what they have
/// written so far.
pub fn capture_log(child: &mut Child) -> std::sync::Arc<parking_lot::Mutex<String>> {
    let text = std::sync::Arc::new(parking_lot::Mutex::new(String::new()));
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for mut stream in streams.into_iter().flatten() {
        let sink = std::sync::Arc::clone(&text);
        std::thread::Builder::new()
            .name("child-output".into())
            .spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            })
            .unwrap();
    }
    text
}

/// Waits until `log` contains `needle` (panics after patience, showing the log).
pub fn wait_for_log(log: &parking_lot::Mutex<String>, needle: &str) {
    let deadline = Instant::now() + super::PATIENCE;
    while !log.lock().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{}",
            log.lock()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM and waits (patiently) for the child to exit; its exit status.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + super::PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the app did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
