//! Parser for `nix --log-format internal-json` (what nix writes to stderr, one event per line).
//!
//! Each line that starts with `@nix ` carries one JSON object with an `action`: `start`, `stop`,
//! `result`, `msg` or `setPhase`. Any other line (builder output under a plain log format, stray
//! output, a `@nix` line whose JSON does not parse) is passed through as [`Event::Plain`], which is
//! also what nix itself does with a builder's malformed `@nix` lines.
//!
//! The parser is pure and borrows from the input: strings without JSON escapes are not copied.
//! Activity and result type numbers nix may add later are kept as raw numbers
//! ([`ActivityType::Other`], [`ResultKind::Other`]), never rejected. Format reference:
//! measured with Nix 2.8 and nix's `logging.hh`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The prefix nix puts before every JSON event.
pub const PREFIX: &str = "@nix ";

/// One line of nix's stderr, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// An activity begins (a build, a download, a copy...).
    Start(Start<'a>),
    /// The activity `id` ended. Nix 2.8 does not say whether it succeeded.
    Stop { id: u64 },
    /// Something an activity reports: a build log line, a phase, progress...
    Result(ActivityResult<'a>),
    /// A message not tied to an activity: errors (level 0), warnings (level 1), notices...
    Msg(Message<'a>),
    /// A top-level `setPhase` (a builder's own `@nix {"action":"setPhase"}` line seen outside
    /// nix's JSON logger; under internal-json nix turns it into a SetPhase result instead).
    SetPhase { phase: Cow<'a, str> },
    /// Valid JSON with an action this parser does not know; kept rather than dropped.
    UnknownAction { action: Cow<'a, str> },
    /// Not an internal-json event: shown as-is.
    Plain(Cow<'a, str>),
}

/// `{"action":"start",...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Start<'a> {
    pub id: u64,
    pub level: u8,
    pub activity: ActivityType,
    pub text: Cow<'a, str>,
    pub fields: Vec<Field<'a>>,
    /// The parent activity; nix 2.8 never sends it (0 = none).
    pub parent: u64,
}

impl Start<'_> {
    /// The `n`th field when it is a string.
    pub fn str_field(&self, n: usize) -> Option<&str> {
        self.fields.get(n).and_then(Field::as_str)
    }

    /// The derivation a Build (105) or PostBuildHook (110) activity is about.
    pub fn drv_path(&self) -> Option<&str> {
        match self.activity {
            ActivityType::Build | ActivityType::PostBuildHook => self.str_field(0),
            _ => None,
        }
    }
}

/// `{"action":"result",...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityResult<'a> {
    pub id: u64,
    pub kind: ResultKind<'a>,
}

/// `{"action":"msg",...}`. `msg` is the display text (with ANSI colours and, for errors, the
/// `error:` prefix and trace); `raw_msg` is the bare message nix attaches to errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<'a> {
    pub level: u8,
    pub msg: Cow<'a, str>,
    pub raw_msg: Option<Cow<'a, str>>,
    pub file: Option<Cow<'a, str>>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Message<'_> {
    /// The message text without ANSI escapes, for matching.
    pub fn plain(&self) -> Cow<'_, str> {
        super::ansi::strip(&self.msg)
    }
}

/// One entry of a `fields` array: nix sends strings and unsigned integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<'a> {
    Int(u64),
    Str(Cow<'a, str>),
    /// null, a boolean, a negative or fractional number, an array or object: not sent by nix
    /// today, tolerated.
    Other,
}

impl Field<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Field::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn into_owned(self) -> Field<'static> {
        match self {
            Field::Int(n) => Field::Int(n),
            Field::Str(s) => Field::Str(Cow::Owned(s.into_owned())),
            Field::Other => Field::Other,
        }
    }
}

/// Activity types (`start.type`), nix `logging.hh`. Unknown numbers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityType {
    Unknown,
    CopyPath,
    FileTransfer,
    Realise,
    CopyPaths,
    Builds,
    Build,
    OptimiseStore,
    VerifyPaths,
    Substitute,
    QueryPathInfo,
    PostBuildHook,
    BuildWaiting,
    /// 112, newer nix (not 2.8).
    FetchTree,
    Other(u64),
}

impl ActivityType {
    pub fn from_code(code: u64) -> Self {
        use ActivityType::{
            Build, BuildWaiting, Builds, CopyPath, CopyPaths, FetchTree, FileTransfer,
            OptimiseStore, Other, PostBuildHook, QueryPathInfo, Realise, Substitute, Unknown,
            VerifyPaths,
        };
        match code {
            0 => Unknown,
            100 => CopyPath,
            101 => FileTransfer,
            102 => Realise,
            103 => CopyPaths,
            104 => Builds,
            105 => Build,
            106 => OptimiseStore,
            107 => VerifyPaths,
            108 => Substitute,
            109 => QueryPathInfo,
            110 => PostBuildHook,
            111 => BuildWaiting,
            112 => FetchTree,
            n => Other(n),
        }
    }

    pub fn code(self) -> u64 {
        use ActivityType::{
            Build, BuildWaiting, Builds, CopyPath, CopyPaths, FetchTree, FileTransfer,
            OptimiseStore, Other, PostBuildHook, QueryPathInfo, Realise, Substitute, Unknown,
            VerifyPaths,
        };
        match self {
            Unknown => 0,
            CopyPath => 100,
            FileTransfer => 101,
            Realise => 102,
            CopyPaths => 103,
            Builds => 104,
            Build => 105,
            OptimiseStore => 106,
            VerifyPaths => 107,
            Substitute => 108,
            QueryPathInfo => 109,
            PostBuildHook => 110,
            BuildWaiting => 111,
            FetchTree => 112,
            Other(n) => n,
        }
    }
}

/// `result` payloads by type (nix `logging.hh` ResultType). A known type whose fields do not
/// have the documented shape is kept as `Other` with its number and fields.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultKind<'a> {
    /// 100: `[bytes, blocks]` saved by store optimisation.
    FileLinked {
        bytes: u64,
        blocks: u64,
    },
    /// 101: one line of builder output (stdout and stderr merged).
    BuildLogLine(Cow<'a, str>),
    /// 102
    UntrustedPath(Cow<'a, str>),
    /// 103
    CorruptedPath(Cow<'a, str>),
    /// 104: the builder announced a phase.
    SetPhase(Cow<'a, str>),
    /// 105: `[done, expected, running, failed]`, on Builds/CopyPaths (counts) and on transfers
    /// (bytes).
    Progress(Progress),
    /// 106: `[activityType, expected]`.
    SetExpected {
        activity: ActivityType,
        expected: u64,
    },
    /// 107: output of the post-build hook.
    PostBuildLogLine(Cow<'a, str>),
    /// 108: newer nix (not 2.8).
    FetchStatus(Cow<'a, str>),
    Other {
        code: u64,
        fields: Vec<Field<'a>>,
    },
}

/// `[done, expected, running, failed]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: u64,
    pub expected: u64,
    pub running: u64,
    pub failed: u64,
}

/// Message verbosity levels (`msg.level`, `start.level`).
pub mod level {
    pub const ERROR: u8 = 0;
    pub const WARN: u8 = 1;
    pub const NOTICE: u8 = 2;
    pub const INFO: u8 = 3;
    pub const TALKATIVE: u8 = 4;
    pub const CHATTY: u8 = 5;
    pub const DEBUG: u8 = 6;
    pub const VOMIT: u8 = 7;

    pub fn name(level: u8) -> &'static str {
        [
            "error",
            "warn",
            "notice",
            "info",
            "talkative",
            "chatty",
            "debug",
            "vomit",
        ]
        .get(level as usize)
        .copied()
        .unwrap_or("vomit")
    }
}

/// Parse one line of nix's stderr (with or without its trailing newline).
pub fn parse_line(line: &str) -> Event<'_> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let Some(json) = line.strip_prefix(PREFIX) else {
        return Event::Plain(Cow::Borrowed(line));
    };
    match serde_json::from_str::<Raw<'_>>(json) {
        Ok(raw) => raw
            .into_event()
            .unwrap_or(Event::Plain(Cow::Borrowed(line))),
        Err(_) => Event::Plain(Cow::Borrowed(line)),
    }
}

impl Event<'_> {
    /// A copy that owns its strings (to send over a channel or keep).
    pub fn into_owned(self) -> Event<'static> {
        fn own(s: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(s.into_owned())
        }
        fn own_fields(f: Vec<Field<'_>>) -> Vec<Field<'static>> {
            f.into_iter().map(Field::into_owned).collect()
        }
        match self {
            Event::Start(s) => Event::Start(Start {
                id: s.id,
                level: s.level,
                activity: s.activity,
                text: own(s.text),
                fields: own_fields(s.fields),
                parent: s.parent,
            }),
            Event::Stop { id } => Event::Stop { id },
            Event::Result(r) => Event::Result(ActivityResult {
                id: r.id,
                kind: match r.kind {
                    ResultKind::FileLinked { bytes, blocks } => {
                        ResultKind::FileLinked { bytes, blocks }
                    }
                    ResultKind::BuildLogLine(s) => ResultKind::BuildLogLine(own(s)),
                    ResultKind::UntrustedPath(s) => ResultKind::UntrustedPath(own(s)),
                    ResultKind::CorruptedPath(s) => ResultKind::CorruptedPath(own(s)),
                    ResultKind::SetPhase(s) => ResultKind::SetPhase(own(s)),
                    ResultKind::Progress(p) => ResultKind::Progress(p),
                    ResultKind::SetExpected { activity, expected } => {
                        ResultKind::SetExpected { activity, expected }
                    }
                    ResultKind::PostBuildLogLine(s) => ResultKind::PostBuildLogLine(own(s)),
                    ResultKind::FetchStatus(s) => ResultKind::FetchStatus(own(s)),
                    ResultKind::Other { code, fields } => ResultKind::Other {
                        code,
                        fields: own_fields(fields),
                    },
                },
            }),
            Event::Msg(m) => Event::Msg(Message {
                level: m.level,
                msg: own(m.msg),
                raw_msg: m.raw_msg.map(own),
                file: m.file.map(own),
                line: m.line,
                column: m.column,
            }),
            Event::SetPhase { phase } => Event::SetPhase { phase: own(phase) },
            Event::UnknownAction { action } => Event::UnknownAction {
                action: own(action),
            },
            Event::Plain(s) => Event::Plain(own(s)),
        }
    }
}

/// The JSON object as nix writes it; every key optional so one struct reads every action.
#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    action: Text<'a>,
    id: Option<u64>,
    level: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<u64>,
    parent: Option<u64>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
    #[serde(borrow)]
    fields: Option<Vec<Field<'a>>>,
    #[serde(borrow)]
    msg: Option<Text<'a>>,
    // nix's own field name.
    #[allow(clippy::struct_field_names)]
    #[serde(borrow)]
    raw_msg: Option<Text<'a>>,
    #[serde(borrow)]
    file: Option<Text<'a>>,
    line: Option<u64>,
    column: Option<u64>,
    #[serde(borrow)]
    phase: Option<Text<'a>>,
}

impl<'a> Raw<'a> {
    /// `None` when a required key is missing: the caller passes the line through as plain text.
    fn into_event(self) -> Option<Event<'a>> {
        let level = self.level.map_or(0, |l| l.min(u64::from(u8::MAX)) as u8);
        Some(match &*self.action.0 {
            "start" => Event::Start(Start {
                id: self.id?,
                level,
                activity: ActivityType::from_code(self.kind.unwrap_or(0)),
                text: self.text.map_or(Cow::Borrowed(""), |t| t.0),
                fields: self.fields.unwrap_or_default(),
                parent: self.parent.unwrap_or(0),
            }),
            "stop" => Event::Stop { id: self.id? },
            "result" => Event::Result(ActivityResult {
                id: self.id?,
                kind: result_kind(self.kind?, self.fields.unwrap_or_default()),
            }),
            "msg" => Event::Msg(Message {
                level,
                msg: self.msg?.0,
                raw_msg: self.raw_msg.map(|t| t.0),
                file: self.file.map(|t| t.0),
                line: self.line.map(clamp_u32),
                column: self.column.map(clamp_u32),
            }),
            "setPhase" => Event::SetPhase {
                phase: self.phase?.0,
            },
            _ => Event::UnknownAction {
                action: self.action.0,
            },
        })
    }
}

fn clamp_u32(n: u64) -> u32 {
    n.min(u64::from(u32::MAX)) as u32
}

fn result_kind(code: u64, mut fields: Vec<Field<'_>>) -> ResultKind<'_> {
    fn one_str<'a>(fields: &mut Vec<Field<'a>>) -> Option<Cow<'a, str>> {
        match fields.as_mut_slice() {
            [Field::Str(s)] => Some(std::mem::take(s)),
            _ => None,
        }
    }
    let ints = |fields: &[Field<'_>], n: usize| -> Option<Vec<u64>> {
        (fields.len() == n).then(|| fields.iter().map(Field::as_u64).collect::<Option<Vec<_>>>())?
    };
    let typed = match code {
        100 => ints(&fields, 2).map(|v| ResultKind::FileLinked {
            bytes: v[0],
            blocks: v[1],
        }),
        101 => one_str(&mut fields).map(ResultKind::BuildLogLine),
        102 => one_str(&mut fields).map(ResultKind::UntrustedPath),
        103 => one_str(&mut fields).map(ResultKind::CorruptedPath),
        104 => one_str(&mut fields).map(ResultKind::SetPhase),
        105 => ints(&fields, 4).map(|v| {
            ResultKind::Progress(Progress {
                done: v[0],
                expected: v[1],
                running: v[2],
                failed: v[3],
            })
        }),
        106 => ints(&fields, 2).map(|v| ResultKind::SetExpected {
            activity: ActivityType::from_code(v[0]),
            expected: v[1],
        }),
        107 => one_str(&mut fields).map(ResultKind::PostBuildLogLine),
        108 => one_str(&mut fields).map(ResultKind::FetchStatus),
        _ => None,
    };
    typed.unwrap_or(ResultKind::Other { code, fields })
}

/// A JSON string that borrows from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(s)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Field::Int(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(u64::try_from(n).map_or(Field::Other, Field::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Field::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests;
