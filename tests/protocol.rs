//! The harness protocol is one file compiled into the tool and into every harness: what one side
//! writes, the other reads back unchanged, and a key it does not know is refused.

use std::path::PathBuf;

use cargo_edgecheck::protocol::{
    Engine, Event, Finding, Kind, Options, Outcome, Panic, Recorded, ReplaySide, Side,
};

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = serde_json::to_string(value).expect("serializes");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not read back: {e}"))
}

fn options() -> Options {
    Options {
        target: "t3".into(),
        engines: vec![Engine::Edge, Engine::Libfuzzer],
        budget_ms: 1500,
        timeout_ms: 1000,
        seed: u64::MAX,
        results: PathBuf::from("/tmp/r é.jsonl"),
        malloc_limit_mb: 2048,
        strict_floats: true,
        input_dump: Some("/tmp/in".into()),
        known: vec!["src/lib.rs:3:9 panic".into()],
        seeds_dir: Some("/tmp/seeds".into()),
        dict: Some("/tmp/dict".into()),
        record: Some("/tmp/rec".into()),
        edge_execs: Some(0),
        base_at: Some(42),
        replay_input: Some("/tmp/crash-1".into()),
        replay_side: ReplaySide::Render,
        chase: Some("divergence".into()),
    }
}

fn panic_at(line: u32) -> Panic {
    Panic {
        message: "attempt to add with overflow".into(),
        file: "src/lib.rs".into(),
        line,
        column: 5,
        origin: Some("/rustc/x/library/core/src/iter.rs:1:1".into()),
    }
}

#[test]
fn options_read_back_as_written() {
    let all = options();
    assert_eq!(round_trip(&all), all);
    // Optional fields may be left out entirely.
    let minimal: Options = serde_json::from_str(
        r#"{"target":"t0","engines":["proptest"],"budget_ms":1,"timeout_ms":1,"seed":0,
            "results":"r","malloc_limit_mb":1,"strict_floats":false}"#,
    )
    .unwrap();
    assert_eq!(minimal.replay_side, ReplaySide::Head);
    assert!(minimal.known.is_empty() && minimal.record.is_none());
}

#[test]
fn every_event_reads_back_as_written() {
    let events = [
        Event::Finding(Box::new(Finding {
            engine: Engine::Proptest,
            kind: Kind::Panic,
            side: Side::Head,
            message: "boom".into(),
            panic: Some(panic_at(3)),
            args: Some(vec!["\"é\"".into(), "u32::MAX".into()]),
            seq: Some(7),
            elapsed_ms: 12,
            input_file: None,
            base: Some(Outcome::Panicked(panic_at(4))),
            head: Some(Outcome::Panicked(panic_at(3))),
            key: Some("src/lib.rs:3:5".into()),
        })),
        Event::Finding(Box::new(Finding {
            engine: Engine::Libfuzzer,
            kind: Kind::Timeout,
            side: Side::Base,
            message: "the call did not return within 1000 ms".into(),
            panic: None,
            args: None,
            seq: None,
            elapsed_ms: 0,
            input_file: Some("/tmp/in".into()),
            base: Some(Outcome::Returned(None)),
            head: Some(Outcome::Returned(Some("Ok(1)".into()))),
            key: None,
        })),
        Event::Stats {
            engine: Engine::Edge,
            execs: 60_000,
        },
        Event::BaseCheck {
            seq: 9,
            base: None,
            args: Some(vec!["7".into()]),
        },
        Event::Decoded {
            args: vec!["&[]".into()],
        },
    ];
    for event in &events {
        assert_eq!(&round_trip(event), event);
    }
    let recorded = Recorded {
        seq: 3,
        args: vec!["0".into()],
    };
    assert_eq!(round_trip(&recorded), recorded);
}

#[test]
fn unknown_keys_are_refused() {
    let mut options = serde_json::to_value(options()).unwrap();
    options["budget"] = 10.into();
    assert!(serde_json::from_value::<Options>(options).is_err());
    let stats = r#"{"event":"stats","engine":"edge","execs":1,"exec":2}"#;
    assert!(serde_json::from_str::<Event>(stats).is_err());
    let finding = serde_json::to_value(Event::Decoded { args: vec![] }).unwrap();
    let mut finding = finding;
    finding["event"] = "findings".into();
    assert!(serde_json::from_value::<Event>(finding).is_err());
}

#[test]
fn names_are_the_wire_names() {
    for engine in Engine::ALL {
        assert_eq!(
            serde_json::to_value(engine).unwrap(),
            serde_json::Value::from(engine.name())
        );
    }
    for kind in [
        Kind::Panic,
        Kind::Divergence,
        Kind::Timeout,
        Kind::Oom,
        Kind::Crash,
        Kind::Exit,
        Kind::Abort,
        Kind::Signal,
    ] {
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::from(kind.name())
        );
    }
}
