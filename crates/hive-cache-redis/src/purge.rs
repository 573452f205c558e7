//! Deleting a whole namespace.

use hive_application::cache::CacheError;

use crate::RedisCache;

impl RedisCache {
    /// Deletes every key under the prefix — entries, generations, counters, leases — with
    /// `SCAN` and `UNLINK` (for tests and operators retiring a namespace; to make every answer
    /// stale in service, use [`clear`](hive_application::cache::Cache::clear)). Returns how many
    /// keys went.
    pub async fn purge(&self) -> Result<u64, CacheError> {
        let pattern = format!("{}*", glob_escape(&self.config().prefix));
        let mut cursor = 0_u64;
        let mut removed = 0;
        loop {
            let pattern = pattern.clone();
            let (next, keys): (u64, Vec<String>) = self
                .redis()
                .call("purge", |mut c| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await
                })
                .await?;
            if !keys.is_empty() {
                removed += self
                    .redis()
                    .call("purge", |mut c| async move {
                        redis::cmd("UNLINK").arg(keys).query_async::<u64>(&mut c).await
                    })
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// `prefix` with the glob characters of `SCAN MATCH` escaped.
fn glob_escape(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(super::glob_escape("hive:cache:"), "hive:cache:");
        assert_eq!(super::glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
