//! Whether every backend is required: no test may skip for want of its server.
//!
//! It is with `cargo xtask test --require-backends`, and always where `CI` or
//! `HIVE_REQUIRE_BACKENDS` is set (read as hive-testkit's `backend::required` reads them: set,
//! not blank, not `0` or `false`). xtask then fails before the tests when a backend cannot be
//! had, sets `HIVE_REQUIRE_BACKENDS=1` for the tests, and fails afterwards when no test used one.

/// The variable that makes a missing backend a failure in the tests (hive-testkit reads it).
pub(crate) const ENV: &str = "HIVE_REQUIRE_BACKENDS";

/// Whether a flag-like variable's value counts as set: present, not blank, not `0` or `false`.
pub(crate) fn is_set(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// Why every backend is required, given the `--require-backends` flag and the values of `CI`
/// and `HIVE_REQUIRE_BACKENDS`; `None` when it is not.
pub(crate) fn decide(flag: bool, ci: Option<&str>, require_env: Option<&str>) -> Option<&'static str> {
    if flag {
        Some("--require-backends")
    } else if is_set(ci) {
        Some("CI is set")
    } else if is_set(require_env) {
        Some("HIVE_REQUIRE_BACKENDS is set")
    } else {
        None
    }
}

/// [`decide`] with this process's environment.
pub(crate) fn from_env(flag: bool) -> Option<&'static str> {
    let var = |name| std::env::var(name).ok();
    decide(flag, var("CI").as_deref(), var(ENV).as_deref())
}

/// Whether `CI` is set in this process's environment.
#[cfg(test)]
pub(crate) fn in_ci() -> bool {
    is_set(std::env::var("CI").ok().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_ci_or_the_variable_each_require_the_backends() {
        assert_eq!(decide(false, None, None), None);
        assert_eq!(decide(true, None, None), Some("--require-backends"));
        assert_eq!(decide(false, Some("true"), None), Some("CI is set"));
        assert_eq!(decide(false, Some("1"), Some("1")), Some("CI is set"));
        assert_eq!(decide(false, None, Some("1")), Some("HIVE_REQUIRE_BACKENDS is set"));
        assert_eq!(decide(true, Some("true"), None), Some("--require-backends"));
    }

    #[test]
    fn blank_zero_and_false_do_not_count() {
        for value in ["", "  ", "0", "false", "FALSE"] {
            assert!(!is_set(Some(value)), "{value:?}");
            assert_eq!(decide(false, Some(value), Some(value)), None, "{value:?}");
        }
        assert!(is_set(Some("yes")));
        assert!(!is_set(None));
    }
}
