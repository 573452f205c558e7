//! The development token of the embedded default: made on first start, kept in the data dir.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

use hive_http::Role;

use crate::config::TokenConfig;

/// The organization of the development token.
pub const DEV_ORGANIZATION: &str = "org-dev";
/// The user of the development token.
pub const DEV_USER: &str = "user-dev";

/// Where the development token is written.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-token")
}

/// Reads `<data dir>/dev-token`, or makes a new random token and writes it there (mode 0600).
/// Returns the token and whether it was created now.
pub fn load_or_create(data_dir: &Path) -> std::io::Result<(TokenConfig, bool)> {
    let path = token_path(data_dir);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_owned();
        if token.len() >= 16 {
            return Ok((dev_token(token), false));
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    writeln!(file, "{token}")?;
    file.sync_all()?;
    Ok((dev_token(token), true))
}

/// The development token: every role of its organization (`admin`) and the platform
/// analytics (`platform`).
fn dev_token(token: String) -> TokenConfig {
    TokenConfig {
        token,
        organization: DEV_ORGANIZATION.into(),
        user: DEV_USER.into(),
        roles: vec![Role::Admin, Role::Platform],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_made_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create(dir.path()).unwrap();
        assert!(created);
        assert_eq!(first.token.len(), 48);
        assert_eq!(first.roles, [Role::Admin, Role::Platform]);
        let (again, created) = load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again, first);
        assert_eq!(
            std::fs::read_to_string(token_path(dir.path())).unwrap().trim(),
            first.token
        );
    }
}
