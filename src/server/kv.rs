//! [`Store`] over a Workers KV binding. Error texts never include keys (a verify key is a hash
//! of a secret) or values.

use worker::kv::KvStore;

use crate::store::{ListPage, ListedKey, PutOptions, Store, StoreError};

/// Workers KV, as a [`Store`].
pub struct Kv(pub KvStore);

fn fail(op: &str, e: impl core::fmt::Display) -> StoreError {
    StoreError(format!("kv {op}: {e}"))
}

impl Store for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.get(key).text().await.map_err(|e| fail("get", e))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        let mut put = self.0.put(key, value).map_err(|e| fail("put", e))?;
        if let Some(m) = options.metadata {
            put = put.metadata(m).map_err(|e| fail("put", e))?;
        }
        if let Some(at) = options.expiration.and_then(|s| u64::try_from(s).ok()) {
            put = put.expiration(at);
        }
        put.execute().await.map_err(|e| fail("put", e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await.map_err(|e| fail("delete", e))
    }

    async fn list(
        &self,
        prefix: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ListPage, StoreError> {
        let mut list = self
            .0
            .list()
            .prefix(prefix.to_owned())
            .limit(u64::from(limit.clamp(1, crate::store::LIST_MAX)));
        if let Some(c) = cursor {
            list = list.cursor(c.to_owned());
        }
        let page = list.execute().await.map_err(|e| fail("list", e))?;
        Ok(ListPage {
            keys: page
                .keys
                .into_iter()
                .map(|k| ListedKey {
                    name: k.name,
                    metadata: k.metadata,
                })
                .collect(),
            cursor: if page.list_complete {
                None
            } else {
                page.cursor.filter(|c| !c.is_empty())
            },
        })
    }
}
