//! Live changes to cases, for boards that follow a unit's subtree: every committed step is
//! published on an in-process channel, and `caseChanged(unitId)` streams those of the cases
//! under that unit.
//!
//! The channel lives in one server process: with several instances on PostgreSQL, a
//! subscriber sees the changes made through its own instance (documented in docs/api.md).

use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures::Stream;
use futures::StreamExt as _;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::access::{case_path_in, require};
use crate::error::OrGql;
use crate::scalars::{parse_id, to_id};
use crate::tree::{app, lang};
use memberflow_workflow::access::{self, Permission};

/// How many changes a slow subscriber may fall behind before it skips some.
const BUFFER: usize = 1024;

/// A change to a case.
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseChange {
    /// The case.
    pub case_id: ID,
    /// The unit that owns it.
    pub unit_id: ID,
    /// `STEP`, `REFUSED` or `MIGRATED`.
    pub kind: String,
    /// The transition.
    pub transition: String,
    /// The state after.
    pub state: String,
    /// The version after.
    pub version: u64,
    #[graphql(skip)]
    pub unit: Uuid,
    #[graphql(skip)]
    pub confidential: bool,
}

/// The publishing side.
#[derive(Debug, Clone)]
pub(crate) struct CaseBus(broadcast::Sender<CaseChange>);

impl Default for CaseBus {
    fn default() -> Self {
        Self(broadcast::channel(BUFFER).0)
    }
}

impl CaseBus {
    /// Publishes the change `c` makes, made only when someone listens (a step with no
    /// subscriber open makes none of its strings).
    pub(crate) fn publish(&self, c: impl FnOnce() -> CaseChange) {
        if self.0.receiver_count() > 0 {
            let _ = self.0.send(c());
        }
    }
}

pub(crate) fn change(
    case_id: Uuid,
    unit: Uuid,
    kind: &str,
    transition: &str,
    state: &str,
    version: u64,
    confidential: bool,
) -> CaseChange {
    CaseChange {
        case_id: to_id(case_id),
        unit_id: to_id(unit),
        kind: kind.to_owned(),
        transition: transition.to_owned(),
        state: state.to_owned(),
        version,
        unit,
        confidential,
    }
}

/// The subscription root.
#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Changes to the cases of `unitId` and of every unit below it, as the tree stands on
    /// the day of the change; the case of a unit that has ended (dissolved, merged) where
    /// the unit stood on its last day. Needs the right to read cases over `unitId`; a change
    /// reaches the subscriber only if they may read the case (confidential, disciplinary,
    /// cases only those who may read them). Over WebSocket, log in by sending
    /// `{"token": "<bearer token>"}` as the `connection_init` payload.
    async fn case_changed(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = CaseChange>> {
        let l = lang(ctx);
        let a = app(ctx).clone();
        let root = parse_id(&unit_id, "unit").gql(l)?;
        a.store.tree().unit(root).await.gql(l)?;
        let grants = require(ctx, Permission::ReadCases, root)
            .await?
            .principal
            .grants();
        let rx = a.bus.0.subscribe();
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(c) => return Some((c, rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "a case subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream.filter_map(move |c| {
            let a = a.clone();
            let grants = grants.clone();
            async move {
                // Where the case is read today (`case_path`): under `root`, and by the caller.
                let path = case_path_in(&a.store, c.unit, a.clock.today()).await.ok()?;
                let p = if c.confidential {
                    Permission::ReadConfidentialCases
                } else {
                    Permission::ReadCases
                };
                (path.contains(&root) && access::allows(&grants, p, &path)).then_some(c)
            }
        }))
    }
}
