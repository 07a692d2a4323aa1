//! Who changed what (CONTRACT §9): the actor recorded with each history entry, and the origin
//! a change is submitted with (the channel it came by, and who was behind it).
//!
//! An actor that arrives on the bus (a follower's `/set` envelope) is untrusted input: it is
//! checked by [`Actor::from_wire`] (a known kind, short printable strings) before it is kept.

use super::source::ChangeSource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest `name`, `address` or `instance_id` an actor may carry, in characters.
pub const ACTOR_TEXT_LIMIT: usize = 256;

/// The kind of actor behind a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Someone at a desktop app.
    Gui,
    /// A REST client.
    Rest,
    /// An MQTT `/set` request.
    Mqtt,
    /// Home Assistant (CONTRACT §8).
    Ha,
    /// A service's discovery announcement.
    Discovery,
    /// A file: an import, a restore, or `config.json` edited by hand.
    Import,
    /// An old revision made current again.
    Rollback,
    /// The manager itself.
    System,
}

impl ActorKind {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gui => "gui",
            Self::Rest => "rest",
            Self::Mqtt => "mqtt",
            Self::Ha => "ha",
            Self::Discovery => "discovery",
            Self::Import => "import",
            Self::Rollback => "rollback",
            Self::System => "system",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Gui,
            Self::Rest,
            Self::Mqtt,
            Self::Ha,
            Self::Discovery,
            Self::Import,
            Self::Rollback,
            Self::System,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

impl From<ChangeSource> for ActorKind {
    fn from(source: ChangeSource) -> Self {
        match source {
            ChangeSource::Gui => Self::Gui,
            ChangeSource::Rest => Self::Rest,
            ChangeSource::Mqtt => Self::Mqtt,
            ChangeSource::Ha => Self::Ha,
            ChangeSource::Discovery => Self::Discovery,
            ChangeSource::Import => Self::Import,
            ChangeSource::Rollback => Self::Rollback,
        }
    }
}

/// Who made a change: `{"kind", "name"?, "address"?, "instance_id"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// The kind of actor.
    pub kind: ActorKind,
    /// The GUI's OS user and host (`user@host`); for REST the grant: `token`, `read-token`
    /// or `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A REST client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The manager the change was made on, when not the one that stored it (a follower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// True when the actor arrived over MQTT (a `/set` envelope, a change set): what the bus
    /// claims, which only broker ACLs make true (CONTRACT §10).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub claimed: bool,
}

impl Actor {
    /// An actor known only by its kind.
    pub fn of_kind(kind: ActorKind) -> Self {
        Self {
            kind,
            name: None,
            address: None,
            instance_id: None,
            claimed: false,
        }
    }

    /// The same actor, as claimed by a message on the bus.
    pub fn claimed(self) -> Self {
        Self {
            claimed: true,
            ..self
        }
    }

    /// A REST client at `address`, let in by `grant` (`token`, `read-token` or `local`).
    pub fn rest_client(address: Option<String>, grant: &str) -> Self {
        Self {
            name: Some(grant.to_owned()),
            address,
            ..Self::of_kind(ActorKind::Rest)
        }
    }

    /// The same actor, marked as having acted on the manager `instance_id`.
    pub fn on_instance(self, instance_id: &str) -> Self {
        Self {
            instance_id: Some(instance_id.to_owned()),
            ..self
        }
    }

    /// "gui alice@desk", "rest token 192.168.1.20", "gui ana@den on <instance>", "mqtt",
    /// "claimed by ana@den on <instance>" (from the bus): a short line for tables and logs.
    pub fn describe(&self) -> String {
        if self.claimed {
            let who = self.name.as_deref().unwrap_or(self.kind.as_str());
            let mut text = format!("claimed by {who}");
            if let Some(instance) = &self.instance_id {
                text.push_str(" on ");
                text.push_str(instance);
            }
            return text;
        }
        let mut text = self.kind.as_str().to_owned();
        for part in [&self.name, &self.address].into_iter().flatten() {
            text.push(' ');
            text.push_str(part);
        }
        if let Some(instance) = &self.instance_id {
            text.push_str(" on ");
            text.push_str(instance);
        }
        text
    }

    /// An actor read from the bus, marked claimed: `Err` names the field (JSON Pointer under
    /// the actor) and the problem.
    pub fn from_wire(value: &Value) -> Result<Self, (String, String)> {
        let Some(fields) = value.as_object() else {
            return Err((String::new(), "must be an object".to_owned()));
        };
        let kind = fields
            .get("kind")
            .and_then(Value::as_str)
            .and_then(ActorKind::parse)
            .ok_or_else(|| {
                (
                    "/kind".to_owned(),
                    "must be one of gui, rest, mqtt, ha, discovery, import, rollback, system"
                        .to_owned(),
                )
            })?;
        let text = |key: &str| -> Result<Option<String>, (String, String)> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text))
                    if !text.is_empty()
                        && text.chars().count() <= ACTOR_TEXT_LIMIT
                        && !text.chars().any(char::is_control) =>
                {
                    Ok(Some(text.clone()))
                }
                Some(_) => Err((
                    format!("/{key}"),
                    format!("must be a string of 1 to {ACTOR_TEXT_LIMIT} printable characters"),
                )),
            }
        };
        Ok(Self {
            kind,
            name: text("name")?,
            address: text("address")?,
            instance_id: text("instance_id")?,
            claimed: true,
        })
    }
}

/// How a change arrived and who was behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The channel (history `source`, metrics).
    pub source: ChangeSource,
    /// Who (history `actor`).
    pub actor: Actor,
    /// Why, for a rollback the manager made by itself (history `reason`, CONTRACT §7).
    pub reason: Option<String>,
    /// How long the change is to be watched (CONTRACT §7): carried to the authority when a
    /// follower forwards it.
    pub watch: Option<u64>,
    /// The change set the change belongs to (history `change_id`, CONTRACT §7).
    pub change_id: Option<String>,
}

impl Origin {
    /// A change by `actor` that came by `source`.
    pub fn new(source: ChangeSource, actor: Actor) -> Self {
        Self {
            source,
            actor,
            reason: None,
            watch: None,
            change_id: None,
        }
    }

    /// The same, to be watched for `secs` seconds.
    pub fn with_watch(mut self, secs: u64) -> Self {
        self.watch = Some(secs);
        self
    }

    /// The same, with the reason recorded in the history.
    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_owned());
        self
    }

    /// The same, as a member of the change set `change_id`.
    pub fn in_change_set(mut self, change_id: &str) -> Self {
        self.change_id = Some(change_id.to_owned());
        self
    }
}

impl From<ChangeSource> for Origin {
    /// A change known only by its channel: the actor is of the matching kind.
    fn from(source: ChangeSource) -> Self {
        Self::new(source, Actor::of_kind(source.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_actor_from_the_bus_is_checked_field_by_field() {
        let actor =
            Actor::from_wire(&json!({"kind": "gui", "name": "ana@den", "instance_id": "f-1"}))
                .unwrap();
        assert_eq!(actor.describe(), "claimed by ana@den on f-1");
        assert!(actor.claimed);
        assert_eq!(actor.instance_id.as_deref(), Some("f-1"));
        for (bad, path) in [
            (json!("gui"), ""),
            (json!({"kind": "wizard"}), "/kind"),
            (json!({"kind": "gui", "name": 7}), "/name"),
            (json!({"kind": "gui", "name": "a\u{7}b"}), "/name"),
            (
                json!({"kind": "gui", "address": "x".repeat(300)}),
                "/address",
            ),
        ] {
            assert_eq!(Actor::from_wire(&bad).unwrap_err().0, path, "{bad}");
        }
    }

    #[test]
    fn an_actor_known_by_its_kind_alone_is_just_its_kind() {
        let json = serde_json::to_value(Origin::from(ChangeSource::Mqtt).actor).unwrap();
        assert_eq!(json, json!({"kind": "mqtt"}));
    }
}
