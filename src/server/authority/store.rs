//! The org authority's records: one SQLite table of keys and JSON values (`records(k, v)`),
//! sorted by key, so the repository's key layout ([`crate::store::keys`]) moves in as it is.
//! Reads and commits are synchronous; a commit is one `transactionSync`.

use std::rc::Rc;

use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{SqlStorage, SqlStorageValue, State};

use super::alarm::Alarm;
use crate::domain::Timestamp;
use crate::store::{keys, Store, StoreError, Write};

/// The records of one org.
pub struct SqlStore {
    sql: SqlStorage,
    /// `ctx.storage` itself, for `transactionSync`.
    storage: JsValue,
    /// The object's alarm, which commits wake (when something falls due, and when KV is owed);
    /// `None` for an object without one (the registry, whose commits never owe or wake).
    alarm: Option<Rc<Alarm>>,
}

fn sql_err(e: impl core::fmt::Display) -> StoreError {
    StoreError(format!("sqlite: {}", crate::store::redact(&e.to_string())))
}

fn text(v: Option<&SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The first key after every key starting with `prefix` (`None`: no upper bound).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl SqlStore {
    pub(super) fn new(state: &State, alarm: Rc<Alarm>) -> Result<Self, StoreError> {
        Self::with_alarm(state, Some(alarm))
    }

    /// Records without an alarm (the registry).
    pub(crate) fn plain(state: &State) -> Result<Self, StoreError> {
        Self::with_alarm(state, None)
    }

    fn with_alarm(state: &State, alarm: Option<Rc<Alarm>>) -> Result<Self, StoreError> {
        let storage = state.storage();
        let sql = storage.sql();
        sql.exec("CREATE TABLE IF NOT EXISTS records (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID", None)
            .map_err(sql_err)?;
        let raw: &JsValue = storage.as_raw().as_ref();
        Ok(Self { sql, storage: raw.clone(), alarm })
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Vec<SqlStorageValue>>, StoreError> {
        let cursor = self.sql.exec(query, bindings).map_err(sql_err)?;
        cursor.raw().map(|r| r.map_err(sql_err)).collect()
    }
}

impl Store for SqlStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let rows = self.rows("SELECT v FROM records WHERE k = ?", vec![key.into()])?;
        Ok(rows.first().and_then(|r| text(r.first())))
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        let mut q = String::from("SELECT k, v FROM records WHERE k >= ? AND k > ?");
        let mut b: Vec<SqlStorageValue> = vec![prefix.into(), after.unwrap_or("").into()];
        if let Some(end) = prefix_end(prefix) {
            q.push_str(" AND k < ?");
            b.push(end.into());
        }
        q.push_str(" ORDER BY k LIMIT ?");
        b.push(i64::from(limit).into());
        Ok(self.rows(&q, b)?.iter().filter_map(|r| Some((text(r.first())?, text(r.get(1))?))).collect())
    }

    async fn commit(&self, writes: &[Write], wake: Option<Timestamp>) -> Result<(), StoreError> {
        let owes_kv = writes.iter().any(|w| matches!(w, Write::Put(k, _) if k.starts_with(keys::OUTBOX)));
        let (sql, writes) = (self.sql.clone(), writes.to_vec());
        let body = Closure::once_into_js(move || -> Result<(), JsValue> {
            for w in writes {
                let done = match w {
                    Write::Put(k, v) => {
                        sql.exec("INSERT OR REPLACE INTO records (k, v) VALUES (?, ?)", vec![k.into(), v.into()])
                    }
                    Write::Delete(k) => sql.exec("DELETE FROM records WHERE k = ?", vec![k.into()]),
                };
                done.map_err(|e| JsValue::from_str(&e.to_string()))?;
            }
            Ok(())
        });
        let tx: Function = Reflect::get(&self.storage, &JsValue::from_str("transactionSync"))
            .map_err(|_| sql_err("no transactionSync"))?
            .dyn_into()
            .map_err(|_| sql_err("transactionSync is not a function"))?;
        tx.call1(&self.storage, &body)
            .map_err(|e| sql_err(e.as_string().unwrap_or_else(|| "transaction failed".into())))?;
        // In the same synchronous step as the commit, so the output gate holds the answer until
        // both are on disk: should the object die before its drain, the alarm wakes it to finish.
        if let Some(alarm) = &self.alarm {
            if owes_kv {
                alarm.safety();
            }
            if let Some(at) = wake {
                alarm.wake_at(at);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ends() {
        // The last character moves up by one: every key of the prefix sorts before the end.
        let tokens = crate::store::keys::tokens("org_1");
        let end = prefix_end(&tokens).unwrap();
        assert!(tokens < end && format!("{tokens}zzzz") < end);
        assert_eq!(end.len(), tokens.len());
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end(""), None);
    }
}
