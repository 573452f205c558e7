//! Bearer tokens: who the caller is (organization, user, roles), and the one place where a
//! request's token is checked against what its route needs ([`Caller`]'s extractor).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use hive_application::MessageContext;
use hive_billing::AnalyticsScope;
use hive_domain::Metadata;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::access::{token_roles, Access, Role, RoleError};
use crate::correlation::CorrelationId;
use crate::extract::Params;
use crate::{Problem, RouteState};

/// The `source` written in the metadata of everything the HTTP API sends.
pub const SOURCE: &str = "http";

/// One accepted bearer token and the identity it stands for.
///
/// Deserialisable from configuration: `{"token", "organization", "user", "roles"?}`; without
/// `roles` the token is a `writer` (see [`token_roles`]), an unknown role name is an error
/// naming the user and the roles. Its `Debug` never shows the token.
///
/// ```
/// let token: hive_http::ApiToken =
///     serde_json::from_str(r#"{"token": "s3cret", "organization": "org-1", "user": "ada"}"#).unwrap();
/// assert_eq!(token.roles, [hive_http::Role::Writer]);
/// let error = serde_json::from_str::<hive_http::ApiToken>(
///     r#"{"token": "s3cret", "organization": "org-1", "user": "ada", "roles": ["billing"]}"#,
/// )
/// .unwrap_err();
/// assert!(error.to_string().contains("user `ada` has an unknown role `billing`"), "{error}");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "TokenEntry")]
pub struct ApiToken {
    /// The secret the client sends as `Authorization: Bearer <token>`.
    pub token: String,
    /// The organization (tenant) every request with this token acts for.
    pub organization: String,
    /// The user every request with this token acts as.
    pub user: String,
    /// What the token may do (see [`Role`]); each route needs one ([`crate::Route::access`]).
    pub roles: Vec<Role>,
}

/// An [`ApiToken`] as configured: role names, `roles` optional, no other field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    token: String,
    organization: String,
    user: String,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

impl TryFrom<TokenEntry> for ApiToken {
    type Error = RoleError;

    fn try_from(entry: TokenEntry) -> Result<Self, RoleError> {
        Ok(Self {
            roles: token_roles(&entry.user, entry.roles)?,
            token: entry.token,
            organization: entry.organization,
            user: entry.user,
        })
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("token", &"<redacted>")
            .field("organization", &self.organization)
            .field("user", &self.user)
            .field("roles", &self.roles)
            .finish()
    }
}

/// The accepted tokens. Cheap to clone.
///
/// ```
/// use hive_http::{ApiToken, Role, TokenRegistry};
///
/// let tokens = TokenRegistry::new(vec![ApiToken {
///     token: "s3cret".into(),
///     organization: "org-1".into(),
///     user: "ada".into(),
///     roles: vec![Role::Reader],
/// }]);
/// assert_eq!(tokens.authenticate("s3cret").map(|t| t.user.as_str()), Some("ada"));
/// assert!(tokens.authenticate("guess").is_none());
/// ```
#[derive(Clone, Default)]
pub struct TokenRegistry {
    tokens: Arc<[ApiToken]>,
}

impl std::fmt::Debug for TokenRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRegistry")
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

impl TokenRegistry {
    /// A registry accepting `tokens` (empty secrets are never accepted).
    pub fn new(tokens: Vec<ApiToken>) -> Self {
        Self { tokens: tokens.into() }
    }

    /// The token equal to `bearer`, compared in constant time: every registered token is
    /// compared in full, whichever matches (only the lengths may show through timing).
    pub fn authenticate(&self, bearer: &str) -> Option<&ApiToken> {
        let mut found = None;
        for token in self.tokens.iter() {
            let equal = bool::from(token.token.as_bytes().ct_eq(bearer.as_bytes()));
            if equal && found.is_none() && !token.token.is_empty() {
                found = Some(token);
            }
        }
        found
    }
}

/// The authenticated and authorized caller of a request, and the request's correlation id.
///
/// Extracting it is the API's only access check: `401` without a valid bearer token, `403`
/// (`insufficient_role`) when the token lacks the role the matched route needs
/// ([`RouteState::access`]), and on the event analytics `400` for a `scope` other than `organization`
/// or `platform`. Every handler of a route that is not [`Access::Public`] takes a `Caller`
/// (a test sends every route of the table without a token and with each role). Routes outside
/// this crate (a dashboard's, mounted with [`crate::router_with`]) take it the same way.
#[derive(Debug, Clone)]
pub struct Caller {
    pub(crate) organization: String,
    pub(crate) user: String,
    pub(crate) correlation_id: String,
    /// `scope` of the event analytics (always [`AnalyticsScope::Organization`] elsewhere).
    pub(crate) scope: AnalyticsScope,
}

impl Caller {
    /// The context of a query: a fresh message id, the request's correlation id, the caller's
    /// organization and user, source `http`.
    pub fn context(&self) -> MessageContext {
        self.clone().into_context()
    }

    /// [`Caller::context`], moving the caller's strings into it instead of copying them.
    pub fn into_context(self) -> MessageContext {
        MessageContext {
            message_id: Uuid::now_v7(),
            idempotent: false,
            correlation_id: self.correlation_id,
            metadata: Metadata::default()
                .with_organization(self.organization)
                .with_user(self.user)
                .with_source(SOURCE),
        }
    }

    /// The organization the caller acts for (its token's).
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The context of a command: the message id is derived from the idempotency key when
    /// there is one (see [`crate::idempotency`]), fresh otherwise.
    pub(crate) fn command_context(&self, idempotency_key: Option<&str>) -> MessageContext {
        let context = self.context();
        match idempotency_key {
            Some(key) => context.with_message_id(crate::idempotency::command_id(&self.organization, key)),
            None => context,
        }
    }
}

impl FromRequestParts<RouteState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &RouteState) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Problem::unauthorized("send `Authorization: Bearer <token>`"))?;
        let bearer = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| Problem::unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let token = state
            .api()
            .tokens
            .authenticate(bearer)
            .ok_or_else(|| Problem::unauthorized("the bearer token is not valid"))?;
        let access = state.access();
        let scope = match access {
            Access::Analytics => analytics_scope(&Params::from_query(parts.uri.query()))?,
            _ => AnalyticsScope::Organization,
        };
        access.check(&token.roles, scope)?;
        // Taken, not copied: the correlation layer keeps its own copy for the response header.
        let correlation_id = parts
            .extensions
            .remove::<CorrelationId>()
            .map_or_else(|| Uuid::now_v7().to_string(), |c| c.0);
        Ok(Self {
            organization: token.organization.clone(),
            user: token.user.clone(),
            correlation_id,
            scope,
        })
    }
}

/// `scope=organization|platform` (default `organization`).
fn analytics_scope(params: &Params) -> Result<AnalyticsScope, Problem> {
    match params.text("scope").as_deref() {
        None | Some("organization") => Ok(AnalyticsScope::Organization),
        Some("platform") => Ok(AnalyticsScope::Platform),
        Some(_) => Err(Problem::bad_request("scope", "must be organization or platform")),
    }
}
