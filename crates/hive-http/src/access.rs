//! Roles and access: what a token may do, and what each route of [`crate::ROUTES`] needs.
//!
//! | role | may |
//! |---|---|
//! | `reader` | query the token's organization (payments, events, analytics, dashboard) |
//! | `writer` | also send payment commands (create, process, fail, refund) |
//! | `admin` | also run operations (no HTTP route needs it yet) |
//! | `platform` | read the event analytics and follow the subscription feeds of every organization (`scope=platform`), nothing else |
//!
//! `reader` < `writer` < `admin`: each grants what the ones before it grant. `platform` stands
//! apart and combines with the others (`["reader", "platform"]`).

use std::fmt;
use std::str::FromStr;

use axum::http::StatusCode;
use hive_billing::AnalyticsScope;
use serde::{Deserialize, Serialize};

use crate::Problem;

/// The `code` of a `403` for a token without the role a request needs.
pub const INSUFFICIENT_ROLE: &str = "insufficient_role";

/// What a token is allowed to do, on top of acting for its organization.
///
/// ```
/// use hive_http::Role;
///
/// assert!(Role::Admin.grants(Role::Writer));
/// assert!(!Role::Reader.grants(Role::Writer));
/// assert!(!Role::Admin.grants(Role::Platform) && !Role::Platform.grants(Role::Reader));
/// assert_eq!("platform".parse::<Role>(), Ok(Role::Platform));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Queries of the token's organization.
    Reader,
    /// Queries and payment commands of the token's organization.
    Writer,
    /// Everything a writer may, and operations.
    Admin,
    /// The event analytics of every organization (`scope=platform`), nothing else.
    Platform,
}

impl Role {
    /// Every role, in the order they are documented.
    pub const ALL: [Role; 4] = [Role::Reader, Role::Writer, Role::Admin, Role::Platform];

    /// The roles of a token configured without `roles`: `writer`, what every token could do
    /// before roles were enforced.
    pub const DEFAULT: [Role; 1] = [Role::Writer];

    /// The configuration name (`reader`, `writer`, `admin`, `platform`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
            Role::Platform => "platform",
        }
    }

    /// Whether a token holding `self` may do what `needed` allows: `reader` < `writer` <
    /// `admin`; `platform` only grants `platform`, and only `platform` grants it.
    pub fn grants(self, needed: Role) -> bool {
        match (self.rank(), needed.rank()) {
            (Some(held), Some(needed)) => held >= needed,
            (held, needed) => held.is_none() && needed.is_none(),
        }
    }

    /// The place in the `reader` < `writer` < `admin` chain (`None` for `platform`).
    fn rank(self) -> Option<u8> {
        match self {
            Role::Reader => Some(1),
            Role::Writer => Some(2),
            Role::Admin => Some(3),
            Role::Platform => None,
        }
    }

    /// The names of every role, comma-separated (for messages).
    pub fn names() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| format!("unknown role `{name}`: the roles are {}", Role::names()))
    }
}

/// Configured role names that cannot make a token's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleError {
    /// A name that is not a role.
    Unknown {
        /// The user of the token.
        user: String,
        /// The name given.
        role: String,
    },
    /// `roles = []`: a token that could reach no route.
    Empty {
        /// The user of the token.
        user: String,
    },
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleError::Unknown { user, role } => write!(
                f,
                "the token of user `{user}` has an unknown role `{role}`: the roles are {}",
                Role::names()
            ),
            RoleError::Empty { user } => write!(
                f,
                "the token of user `{user}` has an empty `roles`: list some of {}, or leave `roles` out \
                 for writer",
                Role::names()
            ),
        }
    }
}

impl std::error::Error for RoleError {}

/// The roles of `user`'s token from the configured `names`: [`Role::DEFAULT`] (`writer`) when
/// `roles` is not configured, else each name as a [`Role`].
///
/// ```
/// use hive_http::{token_roles, Role};
///
/// assert_eq!(token_roles("ada", None), Ok(vec![Role::Writer]));
/// assert_eq!(token_roles("ada", Some(vec!["reader".into(), "platform".into()])), Ok(vec![Role::Reader, Role::Platform]));
/// let error = token_roles("ada", Some(vec!["billing".into()])).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "the token of user `ada` has an unknown role `billing`: the roles are reader, writer, admin, platform"
/// );
/// ```
pub fn token_roles(user: &str, names: Option<Vec<String>>) -> Result<Vec<Role>, RoleError> {
    let Some(names) = names else {
        return Ok(Role::DEFAULT.to_vec());
    };
    if names.is_empty() {
        return Err(RoleError::Empty { user: user.to_owned() });
    }
    names
        .iter()
        .map(|name| {
            name.parse().map_err(|_| RoleError::Unknown {
                user: user.to_owned(),
                role: name.clone(),
            })
        })
        .collect()
}

/// What a request to a route needs: an entry of [`crate::ROUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// No token.
    Public,
    /// A token with `reader` (or `writer`, `admin`).
    Read,
    /// A token with `writer` (or `admin`).
    Write,
    /// A token with `admin`.
    Admin,
    /// The event analytics and the subscription feeds: [`Access::Read`] for the token's
    /// organization (`scope=organization`, the default); `scope=platform` (every organization)
    /// needs `platform` instead.
    Analytics,
}

impl Access {
    /// The role a request in `scope` needs (`None`: no token needed).
    pub fn required_role(self, scope: AnalyticsScope) -> Option<Role> {
        match (self, scope) {
            (Access::Public, _) => None,
            (Access::Read, _) | (Access::Analytics, AnalyticsScope::Organization) => Some(Role::Reader),
            (Access::Write, _) => Some(Role::Writer),
            (Access::Admin, _) => Some(Role::Admin),
            (Access::Analytics, AnalyticsScope::Platform) => Some(Role::Platform),
        }
    }

    /// `Ok` when `roles` may make a request in `scope`, else the `403` problem naming the role
    /// needed.
    pub(crate) fn check(self, roles: &[Role], scope: AnalyticsScope) -> Result<(), Problem> {
        let Some(needed) = self.required_role(scope) else {
            return Ok(());
        };
        if roles.iter().any(|held| held.grants(needed)) {
            return Ok(());
        }
        let held = match roles {
            [] => "no role".to_owned(),
            roles => roles.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
        };
        let what = match (self, scope) {
            (Access::Analytics, AnalyticsScope::Platform) => {
                "`scope=platform` (every organization's analytics or feed)"
            }
            _ => "this route",
        };
        let above = match needed {
            Role::Reader => " (or `writer`, `admin`)",
            Role::Writer => " (or `admin`)",
            Role::Admin | Role::Platform => "",
        };
        let detail = format!("{what} needs the `{needed}` role{above}; the bearer token has {held}");
        Err(Problem::new(StatusCode::FORBIDDEN, INSUFFICIENT_ROLE, detail).with("requiredRole", needed.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_and_platform() {
        use Role::{Admin, Platform, Reader, Writer};
        let grants: Vec<(Role, Role)> = Role::ALL
            .into_iter()
            .flat_map(|held| Role::ALL.into_iter().map(move |needed| (held, needed)))
            .filter(|(held, needed)| held.grants(*needed))
            .collect();
        assert_eq!(
            grants,
            [
                (Reader, Reader),
                (Writer, Reader),
                (Writer, Writer),
                (Admin, Reader),
                (Admin, Writer),
                (Admin, Admin),
                (Platform, Platform)
            ]
        );
    }

    #[test]
    fn a_refusal_names_the_role_needed() {
        let refused = Access::Write
            .check(&[Role::Reader], AnalyticsScope::Organization)
            .unwrap_err();
        assert_eq!((refused.status, refused.code.as_str()), (403, INSUFFICIENT_ROLE));
        assert_eq!(refused.extensions["requiredRole"], "writer");
        assert!(
            refused.detail.contains("`writer`") && refused.detail.contains("`reader`"),
            "{}",
            refused.detail
        );
        let platform = Access::Analytics
            .check(&[Role::Admin], AnalyticsScope::Platform)
            .unwrap_err();
        assert!(platform.detail.starts_with("`scope=platform`"), "{}", platform.detail);
        assert!(Access::Analytics
            .check(&[Role::Platform], AnalyticsScope::Platform)
            .is_ok());
        assert!(Access::Analytics
            .check(&[Role::Platform], AnalyticsScope::Organization)
            .is_err());
        assert!(Access::Public.check(&[], AnalyticsScope::Platform).is_ok());
        assert!(Access::Read
            .check(&[], AnalyticsScope::Organization)
            .unwrap_err()
            .detail
            .contains("no role"));
    }

    #[test]
    fn roles_parse_by_name_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("Admin".parse::<Role>().is_err());
        assert_eq!(
            token_roles("bob", Some(vec![])),
            Err(RoleError::Empty { user: "bob".into() })
        );
    }
}
