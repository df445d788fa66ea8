//! Facts: what Rust code computed from an input, each with the evidence it
//! came from. Rules compare facts by name; they never see raw files. Code sets
//! and reads facts through typed keys declared once in `keys`.

pub mod cond;
pub mod keys;

pub use cond::{Cond, CondError};
pub use keys::KNOWN;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Value::Num(n) => write!(f, "{n:.3}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::List(l) => write!(f, "[{}]", l.join(", ")),
        }
    }
}

/// Where something was seen: a file inside the input, a line, quoted text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub text: String,
}

impl Evidence {
    pub fn new(file: &str, line: Option<u64>, text: impl Into<String>) -> Self {
        let mut text: String = text.into();
        if text.len() > 400 {
            let mut cut = 400;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        Evidence {
            file: file.into(),
            line,
            text: text.trim_end().to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub value: Value,
    pub evidence: Vec<Evidence>,
}

/// A typed fact key. Declared in `keys`; the type decides the value's kind.
pub struct Key<T> {
    pub name: &'static str,
    _t: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    pub const fn new(name: &'static str) -> Self {
        Key {
            name,
            _t: PhantomData,
        }
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

/// Rust types a fact may hold, and their names in `nodejoin facts`.
pub trait FactType {
    const KIND: &'static str;
    fn into_value(self) -> Value;
}

impl FactType for bool {
    const KIND: &'static str = "bool";
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl FactType for f64 {
    const KIND: &'static str = "num";
    fn into_value(self) -> Value {
        Value::Num(self)
    }
}

impl FactType for String {
    const KIND: &'static str = "str";
    fn into_value(self) -> Value {
        Value::Str(self)
    }
}

impl FactType for Vec<String> {
    const KIND: &'static str = "list";
    fn into_value(self) -> Value {
        Value::List(self)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Facts {
    map: BTreeMap<String, Fact>,
}

impl Facts {
    pub fn set<T: FactType>(
        &mut self,
        key: Key<T>,
        value: impl Into<T>,
        evidence: Option<Evidence>,
    ) {
        self.map.insert(
            key.name.to_string(),
            Fact {
                value: value.into().into_value(),
                evidence: evidence.into_iter().collect(),
            },
        );
    }

    /// Set only when not known yet (a bundle file beats a pasted guess).
    pub fn set_default<T: FactType>(
        &mut self,
        key: Key<T>,
        value: impl Into<T>,
        evidence: Option<Evidence>,
    ) {
        if !self.map.contains_key(key.name) {
            self.set(key, value, evidence);
        }
    }

    pub fn push_evidence<T>(&mut self, key: Key<T>, e: Evidence) {
        if let Some(f) = self.map.get_mut(key.name) {
            if !f.evidence.contains(&e) {
                f.evidence.push(e);
            }
        }
    }

    pub fn fact<T>(&self, key: Key<T>) -> Option<&Fact> {
        self.map.get(key.name)
    }

    /// By name, for rules (names are checked against the registry at load).
    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.map.get(name)
    }

    pub fn bool(&self, key: Key<bool>) -> Option<bool> {
        match self.map.get(key.name)?.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn num(&self, key: Key<f64>) -> Option<f64> {
        match self.map.get(key.name)?.value {
            Value::Num(n) => Some(n),
            _ => None,
        }
    }

    pub fn str(&self, key: Key<String>) -> Option<&str> {
        match &self.map.get(key.name)?.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn has<T>(&self, key: Key<T>) -> bool {
        self.map.contains_key(key.name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Fact)> {
        self.map.iter()
    }
}

pub fn known(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    KNOWN.iter().find(|k| k.0 == name)
}
