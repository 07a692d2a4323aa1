//! Disk faults (CONTRACT §6), against the real binary with its config folder on a small tmpfs
//! filled until a change cannot be stored: that PUT answers 507 and nothing of it is stored
//! (not after a restart either), every change acknowledged before it survives a restart, the
//! app keeps running and stores the next change once space is back.
//!
//! Mounting a tmpfs needs root: the test is skipped with a message unless
//! `ALICIA_REQUIRE_ROOT_TESTS=1`, which `.ci/run` sets when it runs as root.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::headless::Headless;
use support::llm;

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped.
struct SmallDisk {
    at: PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let required = std::env::var("ALICIA_REQUIRE_ROOT_TESTS").as_deref() == Ok("1");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        if !root {
            assert!(
                !required,
                "ALICIA_REQUIRE_ROOT_TESTS=1 but the tests do not run as root"
            );
            eprintln!(
                "SKIPPED: mounting a small tmpfs needs root (set ALICIA_REQUIRE_ROOT_TESTS=1 as root)"
            );
            return None;
        }
        let parent = tempfile::tempdir().unwrap();
        let at = parent.path().join("disk");
        std::fs::create_dir(&at).unwrap();
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&at)
            .status()
            .unwrap();
        if !mounted.success() {
            assert!(!required, "could not mount a tmpfs on {}", at.display());
            eprintln!("SKIPPED: could not mount a tmpfs");
            return None;
        }
        Some(Self {
            at,
            _parent: parent,
        })
    }

    /// Bytes free on it.
    fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(&self.at)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// A document whose settings hold `marker` and ~40 KB of padding.
fn heavy(service: &str, marker: &str) -> Value {
    llm(service)
        .model("llama3")
        .settings(json!({"marker": marker, "padding": "x".repeat(40_000)}))
        .build()
}

fn files_mention(dir: &Path, marker: &str) -> bool {
    ["config.json", "history.jsonl"]
        .iter()
        .any(|name| std::fs::read_to_string(dir.join(name)).is_ok_and(|text| text.contains(marker)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_a_change_whole_and_keeps_every_acknowledged_one() {
    let Some(disk) = SmallDisk::mount("6m") else {
        return;
    };
    let config_dir = tempfile::TempDir::new_in(&disk.at).unwrap();
    let folder = config_dir.path().to_path_buf();
    let http = reqwest::Client::new();
    let manager = Headless::start_in(config_dir, None, &[], &http, |_| {}).await;

    // Leave about 400 KB free.
    let filler = disk.at.join("filler");
    let room = disk.free().saturating_sub(400_000);
    std::fs::write(&filler, vec![0u8; usize::try_from(room).unwrap()]).unwrap();

    let mut acknowledged = Vec::new();
    let refused = loop {
        let n = acknowledged.len();
        assert!(n < 200, "the disk never filled up");
        let (service, marker) = (format!("svc-{n}"), format!("marker-{n}-end"));
        let answer = http
            .put(format!("{}/api/config/{service}", manager.base))
            .json(&heavy(&service, &marker))
            .send()
            .await
            .unwrap();
        match answer.status().as_u16() {
            201 => acknowledged.push((service, marker)),
            507 => {
                let body: Value = answer.json().await.unwrap();
                assert!(body["error"].is_string(), "{body}");
                break (service, marker);
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    };
    assert!(!acknowledged.is_empty());
    assert!(
        !files_mention(&folder, &refused.1),
        "the refused change is in neither file"
    );
    let missing = http
        .get(format!("{}/api/config/{}", manager.base, refused.0))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "the refused change is not in force");
    let health = manager.get(&http, "/api/health").await;
    assert_eq!(health["services"]["config"], true, "the app keeps running");

    // Space comes back: the next change is stored.
    std::fs::remove_file(&filler).unwrap();
    let next = heavy("after-the-fault", "marker-after-end");
    let answer = http
        .put(format!("{}/api/config/after-the-fault", manager.base))
        .json(&next)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());

    // After a restart: every acknowledged change, and the refused one nowhere.
    let dir = manager.kill();
    let restarted = Headless::start_in(dir, None, &[], &http, |_| {}).await;
    let stored = restarted.stored_configs();
    for (service, marker) in &acknowledged {
        assert_eq!(
            stored[service]["config"]["settings"]["marker"], *marker,
            "{service} was acknowledged"
        );
    }
    assert_eq!(
        stored["after-the-fault"]["config"]["settings"]["marker"],
        "marker-after-end"
    );
    assert!(stored.get(&refused.0).is_none());
    assert!(!files_mention(restarted.dir(), &refused.1));
}
