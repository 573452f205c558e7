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
    assert_eq!(config.body_cache_bytes, 64 * 1024 * 1024);
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
    assert_eq!(config.tokens[0].roles, vec![hive_http::Role::Admin]);
}

#[test]
fn a_token_without_roles_is_a_writer_and_an_unknown_role_names_the_user_and_the_roles() {
    let token = |roles: &str| {
        file::from_toml(&format!(
            "[[auth.tokens]]\ntoken = \"0123456789abcdef0123\"\norganization = \"org-1\"\nuser = \"ada\"\n{roles}"
        ))
    };
    let layer = token("").unwrap();
    assert_eq!(layer.tokens.unwrap()[0].roles, [hive_http::Role::Writer]);
    let layer = token("roles = [\"reader\", \"platform\"]").unwrap();
    assert_eq!(
        layer.tokens.unwrap()[0].roles,
        [hive_http::Role::Reader, hive_http::Role::Platform]
    );
    let err = token("roles = [\"billing\"]").unwrap_err();
    assert_eq!(
        err.message,
        "the token of user `ada` has an unknown role `billing`: the roles are reader, writer, admin, platform"
    );
    let err = token("roles = []").unwrap_err();
    assert!(err.message.contains("user `ada` has an empty `roles`"), "{err}");
}

#[test]
fn an_invalid_value_names_the_key_and_the_allowed_values() {
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_STORE", "cassandra")]))).unwrap_err();
    assert_eq!(err.key, "store");
    assert_eq!(
        err.to_string(),
        "invalid configuration `store` = `cassandra`: expected one of memory, memory-durable, mongodb, elasticsearch, \
         postgres"
    );
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_HTTP_ADDR", "nowhere")]))).unwrap_err();
    assert_eq!(err.key, "http_addr");
    let err = from_env(|k| (k == "HIVE_HTTP_BODY_LIMIT").then(|| "lots".to_string())).unwrap_err();
    assert_eq!(err.key, "HIVE_HTTP_BODY_LIMIT");
    let err = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_FSYNC", "sometimes")]))).unwrap_err();
    assert!(err.message.contains("always, never"), "{err}");
}

#[test]
fn every_store_and_search_kind_is_in_this_build() {
    assert_eq!(StoreKind::available(), StoreKind::ALL);
    assert_eq!(SearchKind::available(), SearchKind::ALL);
}

#[test]
fn elasticsearch_needs_a_url_whether_it_holds_the_store_or_the_search_index() {
    for key in ["HIVE_STORE", "HIVE_SEARCH"] {
        let err = Config::resolve(Config::defaults().overridden_by(env(&[(key, "elasticsearch")]))).unwrap_err();
        assert_eq!(err.key, "elasticsearch.url", "{key}");
        assert!(err.message.contains("HIVE_ELASTICSEARCH_URL"), "{err}");
        assert!(err.to_string().contains("`elasticsearch.url`"), "{err}");
    }
    let err = Config::resolve(Config::defaults().overridden_by(env(&[
        ("HIVE_SEARCH", "elasticsearch"),
        ("HIVE_ELASTICSEARCH_URL", "localhost:9200"),
    ])))
    .unwrap_err();
    assert_eq!(err.key, "elasticsearch.url");
    assert!(err.message.contains("http://"), "{err}");
    let config = Config::resolve(Config::defaults().overridden_by(env(&[
        ("HIVE_STORE", "elasticsearch"),
        ("HIVE_SEARCH", "elasticsearch"),
        ("HIVE_ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
        ("HIVE_ELASTICSEARCH_INDEX_PREFIX", "hive-prod"),
    ])))
    .unwrap();
    assert_eq!(config.store, StoreKind::Elasticsearch);
    assert_eq!(config.search, SearchKind::Elasticsearch);
    assert_eq!(config.elasticsearch_url.as_deref(), Some("http://127.0.0.1:9200"));
    assert_eq!(config.elasticsearch_index_prefix.as_deref(), Some("hive-prod"));
}

#[test]
fn the_elasticsearch_section_of_the_file_is_read_and_a_bad_index_prefix_refused() {
    let file = file::from_toml(
        "search = \"elasticsearch\"\n[elasticsearch]\nurl = \"http://es:9200\"\nindex_prefix = \"Hive Prod\"\n",
    )
    .unwrap();
    assert_eq!(file.elasticsearch_url.as_deref(), Some("http://es:9200"));
    let err = Config::resolve(Config::defaults().overridden_by(file)).unwrap_err();
    assert_eq!(err.key, "elasticsearch.index_prefix");
    assert_eq!(err.value.as_deref(), Some("Hive Prod"));
    let err = file::from_toml("[elasticsearch]\ndatabase = \"x\"\n").unwrap_err();
    assert!(err.message.contains("unknown field `database`"), "{err}");
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
fn the_postgres_store_needs_a_url_the_driver_parses_and_a_plain_schema() {
    let resolve = |pairs: &[(&str, &str)]| Config::resolve(Config::defaults().overridden_by(env(pairs)));
    // The checks of `store = "postgres"` alone.
    let check = |url: Option<&str>, schema: Option<&str>| {
        let mut config = resolve(&[]).unwrap();
        config.store = StoreKind::Postgres;
        config.postgres_url = url.map(str::to_owned);
        config.postgres_schema = schema.map(str::to_owned);
        config.check_connections()
    };
    let err = check(None, None).unwrap_err();
    assert_eq!(err.key, "postgres.url");
    assert!(err.message.contains("HIVE_POSTGRES_URL"), "{err}");
    assert_eq!(
        check(Some("  "), None).unwrap_err().key,
        "postgres.url",
        "blank is missing"
    );
    let err = check(Some("postgres://u:secret@db:notaport/x"), None).unwrap_err();
    assert_eq!(err.key, "postgres.url");
    assert!(err.message.starts_with("not a PostgreSQL connection URL"), "{err}");
    assert!(
        !err.to_string().contains("secret"),
        "the password is not repeated: {err}"
    );
    let url = Some("postgres://hive@127.0.0.1:5432/hive");
    let err = check(url, Some("Billing")).unwrap_err();
    assert_eq!(
        (err.key.as_str(), err.value.as_deref()),
        ("postgres.schema", Some("Billing"))
    );
    assert_eq!(check(url, Some("billing_eu")), Ok(()));
    assert_eq!(
        check(Some("host=db user=hive dbname=hive"), None),
        Ok(()),
        "the key/value form"
    );
    let err = resolve(&[("HIVE_STORE", "postgres")]).unwrap_err();
    assert_eq!(err.key, "postgres.url", "{err}");
    let config = resolve(&[
        ("HIVE_STORE", "postgres"),
        ("HIVE_POSTGRES_URL", "postgres://db/hive"),
        ("HIVE_POSTGRES_SCHEMA", "billing_eu"),
    ])
    .unwrap();
    assert_eq!(config.store, StoreKind::Postgres);
    assert_eq!(config.postgres_url.as_deref(), Some("postgres://db/hive"));
    assert_eq!(crate::postgres::options(&config).schema, "billing_eu");
    let layer =
        file::from_toml("store = \"postgres\"\n[postgres]\nurl = \"postgres://f/db\"\nschema = \"s\"\n").unwrap();
    assert_eq!(layer.postgres_url.as_deref(), Some("postgres://f/db"));
    assert_eq!(layer.postgres_schema.as_deref(), Some("s"));
    let err = file::from_toml("[postgres]\nuri = \"postgres://f/db\"\n").unwrap_err();
    assert!(err.message.contains("unknown field `uri`"), "{err}");
    // Elsewhere the PostgreSQL keys are not needed, and not checked.
    let config = resolve(&[("HIVE_POSTGRES_URL", "nonsense"), ("HIVE_POSTGRES_SCHEMA", "X")]).unwrap();
    assert_eq!(config.store, StoreKind::MemoryDurable);
    assert_eq!(config.postgres_schema.as_deref(), Some("X"));
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
fn each_server_section_takes_only_its_own_keys() {
    for (text, field) in [
        ("[redis]\nuri = \"redis://x\"", "uri"),
        ("[redis]\ndatabase = \"x\"", "database"),
        ("[mongodb]\nurl = \"mongodb://x\"", "url"),
    ] {
        let err = file::from_toml(text).unwrap_err();
        assert!(
            err.message.contains(&format!("unknown field `{field}`")),
            "{text}: {err}"
        );
    }
    let layer =
        file::from_toml("[redis]\nurl = \"redis://r\"\n[mongodb]\nuri = \"mongodb://m\"\ndatabase = \"d\"").unwrap();
    assert_eq!(layer.redis_url.as_deref(), Some("redis://r"));
    assert_eq!(layer.mongodb_uri.as_deref(), Some("mongodb://m"));
    assert_eq!(layer.mongodb_database.as_deref(), Some("d"));
}

#[test]
fn fsync_accepts_periods() {
    assert_eq!(FsyncSetting::parse("50ms").unwrap(), FsyncSetting::EveryMillis(50));
    assert!(FsyncSetting::parse("0ms").is_err());
}

#[test]
fn the_body_cache_is_set_in_mib_and_bounded() {
    let resolve = |layer: Layer| Config::resolve(Config::defaults().overridden_by(layer));
    let config = resolve(env(&[("HIVE_BODY_CACHE_MIB", "0")])).unwrap();
    assert_eq!(config.body_cache_bytes, 0, "0 turns the cache off");
    let config = resolve(file::from_toml("body_cache_mib = 256").unwrap()).unwrap();
    assert_eq!(config.body_cache_bytes, 256 * 1024 * 1024);
    let error = resolve(env(&[("HIVE_BODY_CACHE_MIB", "2000000")])).unwrap_err();
    assert_eq!(error.key, "body_cache_mib");
    assert!(from_env(|k| (k == "HIVE_BODY_CACHE_MIB").then(|| "lots".to_owned())).is_err());
}

#[test]
fn the_views_cache_is_set_in_mib_and_bounded() {
    let resolve = |layer: Layer| Config::resolve(Config::defaults().overridden_by(layer));
    let config = resolve(Layer::default()).unwrap();
    assert_eq!(config.views_cache_bytes, 32 * 1024 * 1024, "32 MiB by default");
    let config = resolve(env(&[("HIVE_VIEWS_CACHE_MIB", "8")])).unwrap();
    assert_eq!(config.views_cache_bytes, 8 * 1024 * 1024);
    let config = resolve(file::from_toml("views_cache_mib = 256").unwrap()).unwrap();
    assert_eq!(config.views_cache_bytes, 256 * 1024 * 1024);
    for (value, why) in [("0", "a page cache is needed"), ("2000000", "too large")] {
        let error = resolve(env(&[("HIVE_VIEWS_CACHE_MIB", value)])).unwrap_err();
        assert_eq!(error.key, "views_cache_mib", "{why}");
    }
    assert!(from_env(|k| (k == "HIVE_VIEWS_CACHE_MIB").then(|| "lots".to_owned())).is_err());
}

#[test]
fn the_nats_connector_is_configured_from_the_file_or_the_environment_and_needs_a_url() {
    let config = Config::resolve(Config::defaults()).unwrap();
    assert_eq!(config.connector, ConnectorKind::None, "no connector by default");
    let file = file::from_toml(
        r#"
        connector = "nats"
        [nats]
        url = "nats://127.0.0.1:4222"
        stream = "EVENTS"
        subject_prefix = "acme.events"
        "#,
    )
    .unwrap();
    let config = Config::resolve(Config::defaults().overridden_by(file)).unwrap();
    assert_eq!(config.connector, ConnectorKind::Nats);
    assert_eq!(config.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
    assert_eq!(config.nats_stream.as_deref(), Some("EVENTS"));
    assert_eq!(config.nats_subject_prefix.as_deref(), Some("acme.events"));
    let environment = env(&[("HIVE_CONNECTOR", "nats"), ("HIVE_NATS_URL", "nats://10.0.0.1:4222")]);
    let config = Config::resolve(Config::defaults().overridden_by(environment)).unwrap();
    assert_eq!(config.nats_url.as_deref(), Some("nats://10.0.0.1:4222"));
    let error = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_CONNECTOR", "nats")]))).unwrap_err();
    assert_eq!(error.key, "nats.url");
    let error = Config::resolve(Config::defaults().overridden_by(env(&[("HIVE_CONNECTOR", "kafka")]))).unwrap_err();
    assert_eq!(error.key, "connector");
    assert!(error.message.contains("none, nats"), "{}", error.message);
}

#[test]
fn the_subscription_groups_are_configured_and_bounded() {
    let resolve = |layer: Layer| Config::resolve(Config::defaults().overridden_by(layer));
    let defaults = resolve(Layer::default()).unwrap().subscriptions;
    assert_eq!(
        (defaults.max_deliveries, defaults.max_in_flight, defaults.stall_timeout),
        (5, 1_000, Duration::from_secs(30))
    );
    let text = "[subscriptions]\nmax_deliveries = 10\nmax_in_flight = 50\nstall_timeout_secs = 120";
    let from_file = resolve(file::from_toml(text).unwrap()).unwrap().subscriptions;
    assert_eq!(
        (
            from_file.max_deliveries,
            from_file.max_in_flight,
            from_file.stall_timeout
        ),
        (10, 50, Duration::from_secs(120))
    );
    let from_env = resolve(env(&[("HIVE_SUBSCRIPTIONS_MAX_DELIVERIES", "2")])).unwrap();
    assert_eq!(from_env.subscriptions.max_deliveries, 2);
    for (key, value, name) in [
        ("HIVE_SUBSCRIPTIONS_MAX_DELIVERIES", "0", "subscriptions.max_deliveries"),
        (
            "HIVE_SUBSCRIPTIONS_MAX_IN_FLIGHT",
            "1000000",
            "subscriptions.max_in_flight",
        ),
        (
            "HIVE_SUBSCRIPTIONS_STALL_TIMEOUT_SECS",
            "0",
            "subscriptions.stall_timeout_secs",
        ),
    ] {
        assert_eq!(resolve(env(&[(key, value)])).unwrap_err().key, name, "{key}={value}");
    }
    assert!(
        file::from_toml("[subscriptions]\nlinger = 3").is_err(),
        "unknown keys are refused"
    );
}
