//! What this process caches across requests, and how it learns that the database changed under
//! it: revocations (sessions, grants, accounts) and the tree (units created, moved, merged,
//! dissolved).
//!
//! Every such change is made in a transaction that also raises a counter in the database (the
//! revocation epoch) or rewrites the tree's ancestry, and, on PostgreSQL, sends a notification
//! on [`CHANNEL`] that the database delivers at commit to every listening process. A server
//! listens ([`crate::Store::hear_changes`]); while its listener is connected, a change heard or
//! made here moves a generation in memory, and the caches keyed by it (principals, paths to
//! the root) are trusted without a read. When the listener is not connected (SQLite, a
//! command-line process, a lost connection), there is no generation: the principals are
//! checked against the revocation epoch read from the database on each request, as before,
//! and the paths are read.
//!
//! Leaving and rejoining the listening state moves every generation, so nothing cached under
//! an earlier stretch of listening is trusted after a gap in which a notification may have
//! been missed.

use std::sync::Weak;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The PostgreSQL notification channel of the changes; the payload is the [`Topic`].
pub(crate) const CHANNEL: &str = "memberflow_changes";

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// A session, an account or a role grant: cached principals are stale.
    Auth,
    /// The tree: cached paths to the root are stale.
    Tree,
}

impl Topic {
    fn payload(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Tree => "tree",
        }
    }
}

/// The generations of what this process has heard.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    listening: AtomicBool,
    auth: AtomicU64,
    tree: AtomicU64,
    /// Notifications heard since the start.
    heard: AtomicU64,
}

impl Changes {
    /// The generation of `topic` while changes are heard, else `None`: the caller then asks
    /// the database.
    pub(crate) fn generation(&self, topic: Topic) -> Option<u64> {
        self.listening
            .load(Ordering::Acquire)
            .then(|| self.counter(topic).load(Ordering::Acquire))
    }

    /// A change of `topic` heard, or made by this process (before its commit, and heard again
    /// after it).
    pub(crate) fn changed(&self, topic: Topic) {
        self.counter(topic).fetch_add(1, Ordering::AcqRel);
    }

    /// The notifications heard since the start (any topic, this process's own included).
    pub(crate) fn heard(&self) -> u64 {
        self.heard.load(Ordering::Acquire)
    }

    fn counter(&self, topic: Topic) -> &AtomicU64 {
        match topic {
            Topic::Auth => &self.auth,
            Topic::Tree => &self.tree,
        }
    }

    /// Listening starts or stops: every generation moves on both sides of the switch.
    fn set_listening(&self, on: bool) {
        self.changed(Topic::Auth);
        self.changed(Topic::Tree);
        self.listening.store(on, Ordering::Release);
        self.changed(Topic::Auth);
        self.changed(Topic::Tree);
    }
}

/// Tells the listening processes, at commit, that `topic` changed (PostgreSQL; nothing on
/// SQLite, whose readers check the epoch).
pub(crate) async fn notify(c: &impl ConnectionTrait, topic: Topic) -> crate::Result<()> {
    if c.get_database_backend() == DbBackend::Postgres {
        c.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), topic.payload().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Listens on [`CHANNEL`] on a thread of its own, with a connection of its own, until the
/// store is dropped, reconnecting after a loss (a second later, then every five seconds).
/// Its own thread: a notification is taken in as it arrives, however busy the runtime that
/// serves the requests is.
pub(crate) fn spawn_listener(
    options: sea_orm::sqlx::postgres::PgConnectOptions,
    changes: Weak<Changes>,
    on_change: impl Fn(Topic) + Send + 'static,
) {
    let started = std::thread::Builder::new()
        .name("memberflow-changes".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(listen(options, changes, on_change)),
                Err(e) => tracing::warn!(error = %e, "could not listen for changes"),
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "could not listen for changes");
    }
}

async fn listen(
    options: sea_orm::sqlx::postgres::PgConnectOptions,
    changes: Weak<Changes>,
    on_change: impl Fn(Topic),
) {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    let mut pause = Duration::from_secs(1);
    // Whether the store is still there: once a second at least.
    let alive = || changes.upgrade();
    while let Some(c) = alive() {
        drop(c);
        let connected = async {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with(options.clone())
                .await?;
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.ignore_pool_close_event(true);
            // A lost connection is reported at once (`Ok(None)`), not mended first: the
            // notifications of the gap are lost, so the caches must not be trusted meanwhile.
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        match connected {
            Ok(mut listener) => {
                let Some(c) = alive() else { return };
                c.set_listening(true);
                drop(c);
                on_change(Topic::Auth);
                on_change(Topic::Tree);
                tracing::info!("listening for revocations and tree changes");
                pause = Duration::from_secs(1);
                loop {
                    let heard =
                        tokio::time::timeout(Duration::from_secs(1), listener.try_recv()).await;
                    let Some(c) = alive() else { return };
                    match heard {
                        // Quiet for a second: still there?
                        Err(_) => continue,
                        Ok(Ok(Some(n))) => {
                            let topic = if n.payload() == Topic::Tree.payload() {
                                Topic::Tree
                            } else {
                                Topic::Auth
                            };
                            tracing::debug!(?topic, "change heard");
                            c.changed(topic);
                            on_change(topic);
                            c.heard.fetch_add(1, Ordering::AcqRel);
                        }
                        Ok(Ok(None)) => break,
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "the listener for changes failed");
                            break;
                        }
                    }
                }
                if let Some(c) = alive() {
                    c.set_listening(false);
                }
                on_change(Topic::Auth);
                on_change(Topic::Tree);
                tracing::warn!("stopped listening for changes: every request reads the epoch");
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not listen for changes; trying again");
            }
        }
        tokio::time::sleep(pause).await;
        pause = Duration::from_secs(5);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn no_generation_is_trusted_unless_listening_and_none_survives_a_gap() {
        let c = Changes::default();
        assert_eq!(c.generation(Topic::Auth), None);
        c.set_listening(true);
        let a = c.generation(Topic::Auth).unwrap();
        let t = c.generation(Topic::Tree).unwrap();
        c.changed(Topic::Tree);
        assert_eq!(c.generation(Topic::Auth), Some(a));
        assert_ne!(c.generation(Topic::Tree), Some(t));
        let t = c.generation(Topic::Tree).unwrap();
        c.set_listening(false);
        assert_eq!(c.generation(Topic::Tree), None);
        c.set_listening(true);
        assert_ne!(c.generation(Topic::Tree), Some(t));
        assert_ne!(c.generation(Topic::Auth), Some(a));
    }
}
