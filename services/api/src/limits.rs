//! The request guard: limits that apply to a whole operation before any resolver runs —
//! aliases per operation, and rate limits on mutations per account and per address — and the
//! rate limiter that `login` also uses, per login name and per address.
//!
//! Counting is in fixed one-minute windows of the injected clock, in memory: one server
//! process counts its own requests (several instances behind a balancer each allow the
//! limit; docs/security.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Pos, ServerError};
use memberflow_workflow::text::{Lang, Text};

use crate::auth::Auth;
use crate::error::{Code, graphql_error};
use crate::schema::Ctx;

/// The address a request came from, as the HTTP layer saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub IpAddr);

/// The limits, per minute; 0 switches one off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Login attempts per login name.
    pub login_per_account: u32,
    /// Login attempts per address.
    pub login_per_address: u32,
    /// Mutations per account.
    pub mutations_per_account: u32,
    /// Mutations per address.
    pub mutations_per_address: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_account: 10,
            login_per_address: 30,
            mutations_per_account: 300,
            mutations_per_address: 600,
        }
    }
}

/// What a rate limit counts: each key has its own windows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LimitKey {
    /// Mutations of an account.
    MutationsOf(uuid::Uuid),
    /// Mutations from an address.
    MutationsFrom(IpAddr),
    /// Login attempts with a login name (trimmed, lower-cased) from an address (or none known).
    LoginPair(String, Option<IpAddr>),
    /// Login attempts from an address.
    LoginFrom(IpAddr),
    /// Login attempts with a login name (trimmed, lower-cased), from anywhere.
    LoginAs(String),
}

/// Counts events per key in one-minute windows.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<LimitKey, (i64, u32)>>,
}

/// Entries kept before old windows are swept.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    /// Counts one event for `key` in the minute `minute`; `false` when that makes more than
    /// `limit` (0: no limit).
    pub(crate) fn allow(&self, key: LimitKey, limit: u32, minute: i64) -> bool {
        self.excess(key, limit, minute) == 0
    }

    /// Counts one event for `key` in the minute `minute` and returns by how many events the
    /// count now exceeds `limit` (0 within it, or when `limit` is 0).
    pub(crate) fn excess(&self, key: LimitKey, limit: u32, minute: i64) -> u32 {
        if limit == 0 {
            return 0;
        }
        let Ok(mut w) = self.windows.lock() else {
            return 0;
        };
        if w.len() > SWEEP_AT {
            w.retain(|_, (m, _)| *m >= minute);
        }
        let e = w.entry(key).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1.saturating_sub(limit)
    }
}

/// The error for a caller over a rate limit.
pub(crate) fn rate_limited(lang: Lang) -> async_graphql::Error {
    graphql_error(
        Code::RateLimited,
        &[Text::new(
            "Quá nhiều yêu cầu trong thời gian ngắn; hãy thử lại sau một phút.",
            "Too many requests in a short time; try again in a minute.",
        )],
        lang,
    )
}

/// The operation-wide limits, checked on the parsed document before anything of it runs
/// (`schema::execute`, and [`crate::Guarded`] for the operations of a websocket). Not an
/// async-graphql extension: with any extension registered, async-graphql sends every field
/// of every response through the extensions' chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestGuard {
    pub(crate) max_aliases: usize,
    /// Whether introspection is served; when it is not, `__schema` and `__type` are refused
    /// with a code rather than answered with null.
    pub(crate) introspection: bool,
}

/// Whether a selection set asks for `__schema` or `__type` (through fragments too).
fn asks_introspection(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    set.items.iter().any(|s| match &s.node {
        Selection::Field(f) => {
            matches!(f.node.name.node.as_str(), "__schema" | "__type")
                || asks_introspection(doc, &f.node.selection_set.node, depth + 1)
        }
        Selection::InlineFragment(i) => {
            asks_introspection(doc, &i.node.selection_set.node, depth + 1)
        }
        Selection::FragmentSpread(fs) => doc
            .fragments
            .get(&fs.node.fragment_name.node)
            .is_some_and(|frag| asks_introspection(doc, &frag.node.selection_set.node, depth + 1)),
    })
}

fn count_aliases(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> usize {
    if depth > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some())
                    + count_aliases(doc, &f.node.selection_set.node, depth + 1)
            }
            Selection::InlineFragment(i) => {
                count_aliases(doc, &i.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(fs) => doc
                .fragments
                .get(&fs.node.fragment_name.node)
                .map_or(0, |frag| {
                    count_aliases(doc, &frag.node.selection_set.node, depth + 1)
                }),
        })
        .sum()
}

impl RequestGuard {
    /// Refuses `doc` when it asks for introspection on a server that serves none, uses
    /// more aliases than allowed, or is a mutation over the caller's (`auth`) or the
    /// address's (`peer`) rate limit; counts the mutation otherwise.
    pub(crate) fn check(
        &self,
        doc: &ExecutableDocument,
        app: &Ctx,
        auth: Option<&Auth>,
        peer: Option<Peer>,
        lang: Lang,
    ) -> Result<(), ServerError> {
        let aliases: usize = doc
            .operations
            .iter()
            .map(|(_, op)| count_aliases(doc, &op.node.selection_set.node, 0))
            .sum();
        if !self.introspection
            && doc
                .operations
                .iter()
                .any(|(_, op)| asks_introspection(doc, &op.node.selection_set.node, 0))
        {
            return Err(graphql_error(
                Code::GraphqlValidationFailed,
                &[Text::new(
                    "Máy chủ này không cho tra cứu lược đồ (introspection đã tắt).",
                    "Introspection is switched off on this server.",
                )],
                lang,
            )
            .into_server_error(Pos::default()));
        }
        if aliases > self.max_aliases {
            let n = self.max_aliases;
            return Err(graphql_error(
                Code::QueryTooComplex,
                &[Text::new(
                    format!("Truy vấn dùng {aliases} bí danh (alias); giới hạn là {n}."),
                    format!("The query uses {aliases} aliases; the limit is {n}."),
                )],
                lang,
            )
            .into_server_error(Pos::default()));
        }
        let mutation = doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation);
        if mutation {
            let minute = app.clock.now().timestamp().div_euclid(60);
            let limits = &app.rate_limits;
            let by_account = auth.is_none_or(|a| {
                app.limiter.allow(
                    LimitKey::MutationsOf(a.principal.account.id),
                    limits.mutations_per_account,
                    minute,
                )
            });
            let by_address = peer.is_none_or(|p| {
                app.limiter.allow(
                    LimitKey::MutationsFrom(p.0),
                    limits.mutations_per_address,
                    minute,
                )
            });
            if !(by_account && by_address) {
                tracing::warn!(
                    account = ?auth.map(|a| a.principal.account.id),
                    address = ?peer.map(|p| p.0),
                    "mutation rate limit reached"
                );
                return Err(rate_limited(lang).into_server_error(Pos::default()));
            }
        }
        Ok(())
    }
}
