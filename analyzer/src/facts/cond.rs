//! Fact conditions in rules: `NAME OP VALUE`, parsed once, checked against
//! the registry, evaluated per input.

use super::{known, Facts, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Exists,
    Missing,
}

/// One fact condition from a rule: `name op literal`.
#[derive(Debug, Clone)]
pub struct Cond {
    pub name: String,
    pub op: Op,
    pub value: Option<Value>,
    pub text: String,
}

/// Why a condition does not parse; each holds the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondError {
    /// It names a fact that is not computed.
    UnknownFact(String),
    /// Its form, operator or value is wrong.
    Invalid(String),
}

impl std::fmt::Display for CondError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CondError::UnknownFact(m) | CondError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CondError {}

impl Cond {
    pub fn parse(s: &str) -> Result<Cond, CondError> {
        Self::parse_inner(s).map_err(|(unknown_fact, m)| {
            if unknown_fact {
                CondError::UnknownFact(m)
            } else {
                CondError::Invalid(m)
            }
        })
    }

    /// The condition, or (whether the fact is unknown, the message).
    fn parse_inner(s: &str) -> Result<Cond, (bool, String)> {
        let bad = |m: String| (false, m);
        let t = s.trim();
        let mut parts = t.splitn(3, char::is_whitespace).filter(|p| !p.is_empty());
        let name = parts
            .next()
            .ok_or_else(|| bad("empty condition".into()))?
            .to_string();
        let op_s = parts.next().ok_or_else(|| {
            bad(format!(
                "{t:?}: expected `NAME OP VALUE`, `NAME exists` or `NAME missing`"
            ))
        })?;
        let op = match op_s {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "exists" => Op::Exists,
            "missing" => Op::Missing,
            o => return Err(bad(format!("{t:?}: unknown operator {o:?}"))),
        };
        let (kind, ..) = known(&name).map(|k| (k.1, ())).ok_or_else(|| {
            (
                true,
                format!("{t:?}: unknown fact {name:?} (see `nodejoin facts`)"),
            )
        })?;
        let rest = parts.next().map(str::trim);
        let value = match (op, rest) {
            (Op::Exists | Op::Missing, None) => None,
            (Op::Exists | Op::Missing, Some(_)) => {
                return Err(bad(format!("{t:?}: {op_s} takes no value")))
            }
            (_, None) => return Err(bad(format!("{t:?}: missing value"))),
            (_, Some(v)) => Some(parse_literal(v, kind).map_err(|e| bad(format!("{t:?}: {e}")))?),
        };
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && kind != "num" {
            return Err(bad(format!(
                "{t:?}: {name} is {kind}; ordering needs a number"
            )));
        }
        if op == Op::Contains && kind != "list" && kind != "str" {
            return Err(bad(format!("{t:?}: contains needs a list or string fact")));
        }
        Ok(Cond {
            name,
            op,
            value,
            text: t.to_string(),
        })
    }

    pub fn eval(&self, facts: &Facts) -> bool {
        let f = facts.get(&self.name);
        match (self.op, f) {
            (Op::Exists, f) => {
                f.is_some_and(|f| !matches!(&f.value, Value::List(l) if l.is_empty()))
            }
            (Op::Missing, f) => f.is_none(),
            (_, None) => false,
            (op, Some(f)) => compare(
                op,
                &f.value,
                self.value.as_ref().expect("value checked at parse"),
            ),
        }
    }
}

fn parse_literal(v: &str, kind: &str) -> Result<Value, String> {
    match kind {
        "bool" => match v {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got {v:?}")),
        },
        "num" => v
            .parse()
            .map(Value::Num)
            .map_err(|_| format!("expected a number, got {v:?}")),
        _ => Ok(Value::Str(v.trim_matches('"').to_string())),
    }
}

fn compare(op: Op, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            Op::Lt => x < y,
            Op::Le => x <= y,
            Op::Gt => x > y,
            Op::Ge => x >= y,
            _ => false,
        },
        (Value::Bool(x), Value::Bool(y)) => match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            _ => false,
        },
        (Value::Str(x), Value::Str(y)) => match op {
            Op::Eq => x.eq_ignore_ascii_case(y),
            Op::Ne => !x.eq_ignore_ascii_case(y),
            Op::Contains => x.to_lowercase().contains(&y.to_lowercase()),
            _ => false,
        },
        (Value::List(l), Value::Str(y)) => match op {
            Op::Contains => l
                .iter()
                .any(|i| i.to_lowercase().contains(&y.to_lowercase())),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::keys::*;

    #[test]
    fn conditions() {
        let mut f = Facts::default();
        f.set(CLOCK_SYNCED, false, None);
        f.set(CERT_CLIENT_NOT_BEFORE_AHEAD_S, 259200.0, None);
        f.set(
            NODE_TAINTS,
            vec!["node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule".to_string()],
            None,
        );
        assert!(Cond::parse("clock.synced == false").unwrap().eval(&f));
        assert!(Cond::parse("cert.client.not_before_ahead_s > 300")
            .unwrap()
            .eval(&f));
        assert!(!Cond::parse("cert.client.not_before_ahead_s < 300")
            .unwrap()
            .eval(&f));
        assert!(Cond::parse("node.taints contains uninitialized")
            .unwrap()
            .eval(&f));
        assert!(Cond::parse("node.ready missing").unwrap().eval(&f));
        assert!(
            !Cond::parse("node.ready == True").unwrap().eval(&f),
            "missing facts never compare"
        );
        assert!(Cond::parse("clock.synced == maybe").is_err());
        assert!(matches!(
            Cond::parse("clock.sycned == false"),
            Err(CondError::UnknownFact(m)) if m.contains("unknown fact")
        ));
        assert!(Cond::parse("clock.synced > 1").is_err());
    }
}
