//! Accounts in GraphQL: logging in and out, changing one's password, and who am I.
//!
//! The bearer token travels in `Authorization: Bearer …`; the HTTP layer resolves it into a
//! [`Auth`] before the request runs. Authorization of every query and mutation by role and
//! scope builds on this (see docs/security.md).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::Duration;
use memberflow_store::{Principal, Store};
use memberflow_workflow::text::Text;

use crate::clock::Clock;
use crate::error::{Code, OrGql, graphql_error};
use crate::limits::{LimitKey, Peer, rate_limited};
use crate::scalars::to_id;
use crate::tree::{app, lang};

/// Who sends a request: their session token and principal, when the token is live.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The bearer token.
    pub token: String,
    /// The account and its roles.
    pub principal: Principal,
}

/// Resolves a bearer token into an [`Auth`]; `None` for an unknown, expired or revoked one.
pub async fn authenticate(store: &Store, clock: &dyn Clock, token: &str) -> Option<Auth> {
    match store.accounts().principal(token, clock.now()).await {
        Ok(Some(principal)) => Some(Auth {
            token: token.to_owned(),
            principal,
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            None
        }
    }
}

fn auth<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Auth> {
    ctx.data_opt::<Auth>().ok_or_else(|| {
        graphql_error(
            Code::Unauthenticated,
            &[Text::new("Hãy đăng nhập trước.", "Log in first.")],
            lang(ctx),
        )
    })
}

/// A role held, at a unit and its subtree.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RoleHeld {
    /// Role name.
    pub(crate) role: String,
    /// The unit (none for a role held everywhere).
    pub(crate) unit_id: Option<ID>,
    /// The unit read beforehand with those of a whole list (one read for a page of
    /// accounts instead of one per role).
    #[graphql(skip)]
    pub(crate) preloaded: Option<memberflow_store::UnitRecord>,
}

#[async_graphql::ComplexObject]
impl RoleHeld {
    /// The role's name in the reader's language.
    async fn label(&self, ctx: &Context<'_>) -> String {
        memberflow_workflow::access::Role::parse(&self.role)
            .map(|r| r.label().get(lang(ctx)).to_owned())
            .unwrap_or_else(|| self.role.clone())
    }
    /// The unit (none for a role held everywhere).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<crate::tree::Unit>> {
        let Some(id) = &self.unit_id else {
            return Ok(None);
        };
        if let Some(u) = &self.preloaded {
            return Ok(Some(crate::tree::Unit(u.clone())));
        }
        let l = lang(ctx);
        let id = crate::scalars::parse_id(id, "unit").gql(l)?;
        Ok(Some(crate::tree::Unit(
            crate::tree::app(ctx).store.tree().unit(id).await.gql(l)?,
        )))
    }
}

/// The account behind the request.
#[derive(SimpleObject)]
pub struct Me {
    /// Account id.
    id: ID,
    /// Login name.
    username: String,
    /// The member the account belongs to.
    member_id: Option<ID>,
    /// Its roles.
    roles: Vec<RoleHeld>,
}

/// A new session.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>`. Shown once.
    token: String,
    /// When it expires (RFC 3339).
    expires_at: String,
    /// The account.
    me: Me,
}

pub(crate) fn me(p: &Principal) -> Me {
    Me {
        id: to_id(p.account.id),
        username: p.account.username.clone(),
        member_id: p.account.member_id.map(to_id),
        roles: p
            .roles
            .iter()
            .map(|r| RoleHeld {
                role: r.role.clone(),
                unit_id: r.unit_id.map(to_id),
                preloaded: None,
            })
            .collect(),
    }
}

/// Who am I.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The account behind the request, or null when not logged in.
    async fn me(&self, ctx: &Context<'_>) -> Option<Me> {
        ctx.data_opt::<Auth>().map(|a| me(&a.principal))
    }
}

/// Sessions and passwords.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Logs in: a wrong name and a wrong password give the same `UNAUTHENTICATED`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let l = lang(ctx);
        let a = app(ctx);
        // Every attempt counts. Per login name and address together, and per address, an
        // attempt over the limit is refused: neither guessing one account's password from one
        // place nor spraying many accounts from one place gets far. Per login name alone (from
        // everywhere) attempts over the limit are slowed down, never refused: nobody can lock
        // an account's owner out by failing on purpose from elsewhere.
        let minute = a.clock.now().timestamp().div_euclid(60);
        let name = username.trim().to_lowercase();
        let peer = ctx.data_opt::<Peer>().map(|p| p.0);
        let by_pair = a.limiter.allow(
            LimitKey::LoginPair(name.clone(), peer),
            a.rate_limits.login_per_account,
            minute,
        );
        let by_address = peer.is_none_or(|p| {
            a.limiter.allow(
                LimitKey::LoginFrom(p),
                a.rate_limits.login_per_address,
                minute,
            )
        });
        if !(by_pair && by_address) {
            tracing::warn!(username, address = ?peer, "login rate limit reached");
            return Err(rate_limited(l));
        }
        let over = a.limiter.excess(
            LimitKey::LoginAs(name),
            a.rate_limits.login_per_account,
            minute,
        );
        if over > 0 {
            let pause = std::time::Duration::from_millis(250 * u64::from(over.min(12)));
            tracing::warn!(
                username,
                over,
                pause_ms = pause.as_millis(),
                "login slowed down"
            );
            tokio::time::sleep(pause).await;
        }
        let ttl = Duration::minutes(i64::from(a.session_minutes));
        let (_, session) = a
            .store
            .accounts()
            .login(&username, &password, ttl, a.clock.now())
            .await
            .gql(l)?;
        let principal = a
            .store
            .accounts()
            .principal(&session.token, a.clock.now())
            .await
            .gql(l)?
            .ok_or_else(|| graphql_error(Code::Internal, &[], l))?;
        Ok(LoginPayload {
            token: session.token,
            expires_at: session.expires_at.to_rfc3339(),
            me: me(&principal),
        })
    }

    /// Ends the request's session.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let l = lang(ctx);
        let a = app(ctx);
        let auth = auth(ctx)?;
        a.store
            .accounts()
            .logout(&auth.token, a.clock.now())
            .await
            .gql(l)?;
        Ok(true)
    }

    /// Changes the password; every session of the account ends, this one included.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        old_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let l = lang(ctx);
        let a = app(ctx);
        let auth = auth(ctx)?;
        a.store
            .accounts()
            .change_password(
                auth.principal.account.id,
                &old_password,
                &new_password,
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(true)
    }
}
