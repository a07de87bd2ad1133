//! `cargo bench -p viben-store`: each figure against a baseline measured in the same run.
//!
//! Prints one `BENCH name=... value=... unit=... baseline=... baseline_value=... ratio=...`
//! line per figure (throughputs: higher is better). Rounds alternate between the store and its
//! baseline and the median of each is reported, so load from other processes hits both.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use viben_model::{AgentConfig, Message, MessageRole, SessionMeta};
use viben_store::Store;

const AGENTS: usize = 10_000;
const ROUNDS: usize = 9;

fn agent(i: usize) -> AgentConfig {
    let mut agent = AgentConfig::new(
        format!("agent-{i:05}"),
        format!("Agent {i}"),
        "claude-3-sonnet",
        "anthropic",
    );
    agent.description = Some("A helpful assistant".into());
    agent.system_prompt = Some("You are a helpful assistant.".into());
    agent.temperature = Some(0.7);
    agent.max_tokens = Some(4096);
    agent
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `store` and `baseline` alternately `ROUNDS` times; each returns the operations done.
fn compare(mut store: impl FnMut() -> usize, mut baseline: impl FnMut() -> usize) -> (f64, f64) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let n = store();
        ours.push(n as f64 / start.elapsed().as_secs_f64());
        let start = Instant::now();
        let n = baseline();
        theirs.push(n as f64 / start.elapsed().as_secs_f64());
    }
    (median(ours), median(theirs))
}

fn report(name: &str, unit: &str, baseline: &str, (value, base): (f64, f64)) {
    println!(
        "BENCH name={name} value={value:.1} unit={unit} baseline={baseline} baseline_value={base:.1} ratio={:.3}",
        value / base
    );
}

/// Like [`compare`], for operations that wait for the disk: the store's operation and the
/// baseline's alternate one by one, so both see the same disk load (fsync latency on a shared
/// machine swings by several times within a second).
fn compare_interleaved(
    per_round: usize,
    mut store: impl FnMut(),
    mut baseline: impl FnMut(),
) -> (f64, f64) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (mut a, mut b) = (0.0, 0.0);
        for _ in 0..per_round {
            let start = Instant::now();
            store();
            a += start.elapsed().as_secs_f64();
            let start = Instant::now();
            baseline();
            b += start.elapsed().as_secs_f64();
        }
        ours.push(per_round as f64 / a);
        theirs.push(per_round as f64 / b);
    }
    (median(ours), median(theirs))
}

fn list_agents(root: &Path) -> (f64, f64) {
    let store = Store::open(root).expect("open the store");
    // Written directly (no fsync) to keep the setup short; `save_config` measures saving.
    for i in 0..AGENTS {
        let agent = agent(i);
        let path = store.layout().agent_config(&agent.id);
        fs::create_dir_all(path.parent().expect("a folder")).expect("create a folder");
        fs::write(&path, serde_yaml::to_string(&agent).expect("serialize")).expect("write");
    }
    let agents_dir = store.layout().agents_dir();
    compare(
        || {
            let listing = store.agents().list().expect("list agents");
            assert_eq!(listing.items.len(), AGENTS);
            listing.items.len()
        },
        || {
            // The plain loop: list the folder, read each file, parse it with the same crate.
            let mut ids: Vec<_> = fs::read_dir(&agents_dir)
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            ids.sort();
            let mut agents = Vec::with_capacity(ids.len());
            for id in ids {
                let text =
                    fs::read_to_string(agents_dir.join(id).join("config.yaml")).expect("read");
                let agent: AgentConfig = serde_yaml::from_str(&text).expect("parse");
                agents.push(agent);
            }
            agents.len()
        },
    )
}

/// A hand-commented agent, as people keep them.
const COMMENTED_AGENT: &str = include_str!("../tests/fixtures/commented/agent-config.yaml");

/// One save of agent `my-agent` with a new `max_tokens`.
fn save_agent(store: &Store, max_tokens: u32) {
    store
        .agents()
        .update("my-agent", |a| {
            a.max_tokens = Some(max_tokens);
            Ok(())
        })
        .expect("save");
}

/// Saving a commented agent three ways, one after the other in each step so all see the same
/// disk load: the store editing the file in place, the store rewriting the whole file through
/// serde (as saves did before), and the bare write + fsync of the same bytes. Returns the
/// rates (saves/s) in that order.
fn save_config(root: &Path) -> (f64, f64, f64) {
    const SAVES: usize = 100;
    let open = |name: &str| {
        let dir = root.join(name).join("agents/my-agent");
        fs::create_dir_all(&dir).expect("create the agent's folder");
        fs::write(dir.join("config.yaml"), COMMENTED_AGENT).expect("write the agent");
        Store::open(root.join(name)).expect("open the store")
    };
    let in_place = open("in-place");
    let rewrite = open("rewrite").rewriting_whole_files();
    let bare = root.join("bare.yaml");
    let (mut ours, mut serde, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let mut toggle = 0u32;
    for _ in 0..ROUNDS {
        let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
        for _ in 0..SAVES {
            toggle += 1;
            let start = Instant::now();
            save_agent(&in_place, 1000 + toggle);
            a += start.elapsed().as_secs_f64();
            let start = Instant::now();
            save_agent(&rewrite, 1000 + toggle);
            b += start.elapsed().as_secs_f64();
            let start = Instant::now();
            let mut file = File::create(&bare).expect("create");
            file.write_all(COMMENTED_AGENT.as_bytes()).expect("write");
            file.sync_all().expect("fsync");
            c += start.elapsed().as_secs_f64();
        }
        ours.push(SAVES as f64 / a);
        serde.push(SAVES as f64 / b);
        theirs.push(SAVES as f64 / c);
    }
    (median(ours), median(serde), median(theirs))
}

/// The baseline's serialization of a message: one JSON line, as the store writes it.
fn encode(message: &Message) -> Vec<u8> {
    let mut line = serde_json::to_vec(message).expect("serialize");
    line.push(b'\n');
    line
}

/// The store's appender against the plain loop: serialize the same message and write it with
/// one `write` to an `O_APPEND` file (no lock, no check of the file's end).
fn append(root: &Path, durable: bool) -> (f64, f64) {
    let count = if durable { 200 } else { 20_000 };
    let store = Store::open(root).expect("open the store");
    if store.agents().get("agent-00000").is_err() {
        store.agents().create(&agent(0)).expect("create");
    }
    let meta = SessionMeta::new("agent-00000", None);
    store.sessions().create(&meta).expect("create a session");
    let message = Message::new(
        MessageRole::User,
        "What is the weather like in Lisbon today?",
    );
    let appender = store.sessions().appender(&meta.id).expect("open the log");
    let raw_path = root.join("raw.jsonl");
    let raw = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&raw_path)
        .expect("open");
    if durable {
        return compare_interleaved(
            count,
            || appender.append_durable(&message).expect("append"),
            || {
                let mut raw = &raw;
                raw.write_all(&encode(&message)).expect("write");
                raw.sync_data().expect("fdatasync");
            },
        );
    }
    compare(
        || {
            for _ in 0..count {
                appender.append(&message).expect("append");
            }
            count
        },
        || {
            let mut raw = &raw;
            for _ in 0..count {
                raw.write_all(&encode(&message)).expect("write");
            }
            count
        },
    )
}

fn main() {
    let start = Instant::now();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let list = list_agents(&dir.path().join("list"));
    let save = save_config(&dir.path().join("save"));
    let fast = append(&dir.path().join("append"), false);
    let durable = append(&dir.path().join("append-fsync"), true);
    eprintln!("benchmark took {:.1} s", start.elapsed().as_secs_f64());
    report("list_agents_10k", "agents/s", "read_parse_loop", list);
    let (in_place, rewrite, bare) = save;
    // On tmpfs an fsync costs nothing, so this shows the CPU cost of each way of saving.
    let tmpfs = Path::new("/dev/shm")
        .is_dir()
        .then(|| tempfile::tempdir_in("/dev/shm").expect("a folder in /dev/shm"))
        .map(|dir| save_config(dir.path()));
    report("save_config", "saves/s", "write_fsync", (in_place, bare));
    report(
        "save_config",
        "saves/s",
        "serde_rewrite",
        (in_place, rewrite),
    );
    report(
        "save_config_serde_rewrite",
        "saves/s",
        "write_fsync",
        (rewrite, bare),
    );
    if let Some((in_place, rewrite, bare)) = tmpfs {
        report(
            "save_config_tmpfs",
            "saves/s",
            "serde_rewrite",
            (in_place, rewrite),
        );
        report(
            "save_config_tmpfs",
            "saves/s",
            "write_fsync",
            (in_place, bare),
        );
    }
    report("append_message", "messages/s", "serialize_write", fast);
    report(
        "append_message_fsync",
        "messages/s",
        "serialize_write_fdatasync",
        durable,
    );
}
