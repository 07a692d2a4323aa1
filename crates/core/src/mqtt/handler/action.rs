//! The follow-up work the handler names for the connection task: config changes, replies,
//! refusals, mirrored deletions.

use super::*;

/// Work that a message asks for, beyond updating the registries.
#[derive(Debug, Clone)]
pub enum Action {
    /// Apply a `/set` request (refusals go to `/error`).
    SubmitSet {
        /// The service it is about, by name.
        service: String,
        /// The request (document, base, actor).
        request: SetRequest,
    },
    /// Home Assistant switched a service on or off (CONTRACT §8).
    HaSwitch {
        /// The service it is about, by name.
        service: String,
        /// On or off.
        on: bool,
    },
    /// Answer a follower's change set (CONTRACT §7) on its result topic: the payload as it
    /// arrived, read off the connection task (CONTRACT §10).
    SubmitChangeSet {
        /// The message's payload.
        payload: Bytes,
    },
    /// Refuse a follower's change set that could not be read (over its limit, too dense,
    /// malformed) on its result topic.
    RefuseChangeSet {
        /// Its `request_id`.
        request_id: String,
        /// Why.
        error: String,
        /// The status a REST client would have been given.
        status: u16,
    },
    /// Refuse a `/set` request that could not even be read.
    RefuseSet {
        /// The service it is about, by name.
        service: String,
        /// Why.
        refusal: SetRefusal,
    },
    /// Build a first config for a newly announced service.
    CreateFromAnnouncement(Box<Announcement>),
    /// Someone else wrote this service's schema topic (CONTRACT §6, §9): publish the
    /// enforced settings schema again, or clear the topic when there is none.
    RestoreSchema {
        /// The service it is about, by name.
        service: String,
    },
    /// Someone else wrote this service's config topic (CONTRACT §6): publish the stored
    /// document again, or an empty retained payload when there is none.
    RestoreConfig {
        /// The service it is about, by name.
        service: String,
    },
    /// A follower copies the authority's document.
    Mirror {
        /// The service it is about, by name.
        service: String,
        /// The authority's document.
        document: Value,
    },
    /// A follower saw the service's config cleared (or missing after a sync): the deletion
    /// is applied only if it is still current after the repair window, while the authority
    /// is live (CONTRACT §10).
    MirrorDeletion {
        /// The service it is about, by name.
        service: String,
        /// How many configs of the service this follower had seen then.
        seen: u64,
    },
    /// Publish this manager's presence again (its topic was overwritten, or its role
    /// changed).
    PublishPresence,
    /// This manager just stepped down from authority to follower.
    SteppedDown,
    /// This manager had stepped down for a claim that turned invalid: it is the authority
    /// again.
    Resumed,
}
