//! What a request has already read, kept for the rest of the request: a list reads for its
//! whole page at once, or a unit with its children, and the resolvers below find their part
//! here instead of a statement each. One per kind of read, in the request's data
//! (`schema::execute`); nothing outlives the request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Values read in this request, by key.
#[derive(Debug)]
pub(crate) struct Memo<K, V>(Mutex<HashMap<K, Arc<V>>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: Eq + Hash, V> Memo<K, V> {
    /// The value kept for `k`, if any.
    pub(crate) fn get(&self, k: &K) -> Option<Arc<V>> {
        self.0.lock().ok()?.get(k).cloned()
    }

    /// Keeps `v` for `k` (replacing what was kept) and gives it back, shared.
    pub(crate) fn put(&self, k: K, v: V) -> Arc<V> {
        let v = Arc::new(v);
        if let Ok(mut m) = self.0.lock() {
            m.insert(k, v.clone());
        }
        v
    }
}

/// `k` from `memo` (when the request has one), else what `read` gives, kept there.
pub(crate) async fn or_read<K: Eq + Hash, V, E>(
    memo: Option<&Memo<K, V>>,
    k: K,
    read: impl Future<Output = Result<V, E>>,
) -> Result<Arc<V>, E> {
    if let Some(hit) = memo.and_then(|m| m.get(&k)) {
        return Ok(hit);
    }
    let v = read.await?;
    Ok(match memo {
        Some(m) => m.put(k, v),
        None => Arc::new(v),
    })
}
