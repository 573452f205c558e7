use super::*;

fn env(pairs: &[(&str, &str)]) -> Layer {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    from_env(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())).unwrap()
}

#[test]
fn defaults_are_the_embedded_durable_store_on_localhost() {
    let config = Config::resolve(Config::defaults()).unwrap();
    assert_eq!(config.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, PathBuf::from("./hive-data"));
    assert_eq!(config.store, StoreKind::MemoryDurable);
    assert_eq!(config.search, SearchKind::Memory);
    assert_eq!(config.fsync, FsyncSetting::Always);
    assert!(config.tokens.is_empty());
}

#[test]
fn layers_apply_in_order_file_env_flags() {
    let file = file::from_toml(
        r#"
        http_addr = "127.0.0.1:9000"
        store = "memory"
        data_dir = "/from/file"
        [http]
        body_limit = 2048
        [[auth.tokens]]
        token = "0123456789abcdef0123"
        organization = "org-1"
        user = "ada"
        roles = ["admin"]
        "#,
    )
    .unwrap();
    let environment = env(&[("HIVE_DATA_DIR", "/from/env"), ("HIVE_HTTP_ADDR", "127.0.0.1:9100")]);
    let flags = Layer {
        http_addr: Some("127.0.0.1:9200".into()),
        ..Layer::default()
    };
    let config = Config::resolve(
        Config::defaults()
            .overridden_by(file)
            .overridden_by(environment)
            .overridden_by(flags),
    )
    .unwrap();
    assert_eq!(config.http_addr.port(), 9200, "flags win");
    assert_eq!(config.data_dir, PathBuf::from("/from/env"), "env beats the file");
    assert_eq!(config.store, StoreKind::Memory, "the file beats the defaults");
    assert_eq!(config.body_limit, 2048);
    assert_eq!(config.tokens[0].organization, "org-1");
    assert_eq!(config.tokens[0].roles, vec!["admin".to_string()]);
}

#[test]
fn an_invalid_value_names_the_key_and_the_allowed_values() {
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_STORE", "postgres")]))).unwrap_err();
    assert_eq!(err.key, "store");
    assert_eq!(
        err.to_string(),
        "invalid configuration `store` = `postgres`: expected one of memory, memory-durable, mongodb, elasticsearch"
    );
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_HTTP_ADDR", "nowhere")]))).unwrap_err();
    assert_eq!(err.key, "http_addr");
    let err = from_env(|k| (k == "HIVE_HTTP_BODY_LIMIT").then(|| "lots".to_string())).unwrap_err();
    assert_eq!(err.key, "HIVE_HTTP_BODY_LIMIT");
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_FSYNC", "sometimes")]))).unwrap_err();
    assert!(err.message.contains("always, never"), "{err}");
}

#[test]
fn adapters_missing_from_this_build_are_refused_clearly() {
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_SEARCH", "elasticsearch")]))).unwrap_err();
    assert_eq!(err.key, "search");
    assert!(err.message.contains("no `elasticsearch` adapter"), "{err}");
}

#[test]
fn the_cache_is_moka_by_default_and_every_kind_is_available() {
    assert_eq!(Config::resolve(Config::defaults()).unwrap().cache, CacheKind::Moka);
    for (value, kind) in [
        ("none", CacheKind::None),
        ("moka", CacheKind::Moka),
        ("moka+redis", CacheKind::MokaRedis),
    ] {
        let config = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_CACHE", value)]))).unwrap();
        assert_eq!(config.cache, kind);
    }
}

#[test]
fn the_mongodb_store_needs_a_uri() {
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_STORE", "mongodb")]))).unwrap_err();
    assert_eq!(err.key, "mongodb.uri");
    assert!(err.message.contains("HIVE_MONGODB_URI"), "{err}");
    let config = Config::resolve(Config::defaults().overridden_by(env(&[
        ("HIVE_STORE", "mongodb"),
        ("HIVE_MONGODB_URI", "mongodb://127.0.0.1:27017"),
    ])))
    .unwrap();
    assert_eq!(config.store, StoreKind::Mongodb);
    assert_eq!(config.mongodb_database, "Gyroscops Cloud");
}

#[test]
fn unknown_keys_and_weak_tokens_in_the_file_are_refused() {
    let err = file::from_toml("stor = \"memory\"").unwrap_err();
    assert!(err.message.contains("unknown field `stor`"), "{err}");
    let weak = file::from_toml("[[auth.tokens]]\ntoken = \"short\"\norganization = \"o\"\nuser = \"u\"\n").unwrap();
    let err = Config::resolve(Config::defaults().overridden_by(weak)).unwrap_err();
    assert_eq!(err.key, "auth.tokens[0].token");
}

#[test]
fn fsync_accepts_periods() {
    assert_eq!(FsyncSetting::parse("50ms").unwrap(), FsyncSetting::EveryMillis(50));
    assert!(FsyncSetting::parse("0ms").is_err());
}
