//! Agent and provider ids become file and folder names: the CLI refuses those Windows or
//! macOS cannot hold, and ids differing only in case, saying why; model ids stay free.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::viben;

#[test]
fn creating_an_agent_or_provider_with_a_non_portable_or_case_colliding_id_fails_saying_why() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let h = home.path();
    viben(h, &["models", "add", "llama3:8b", "--provider", "ollama"]).ok();
    viben(h, &["providers", "set", "ollama"]).ok();
    let create = |id: &str| {
        viben(
            h,
            &[
                "agents",
                "create",
                id,
                "--name",
                "N",
                "--model",
                "llama3:8b",
                "--provider",
                "ollama",
            ],
        )
    };
    create("a").ok();
    let err = create("A");
    assert!(
        err.failed()
            .contains("error: agent \"a\" already exists and \"A\" differs from it only in case"),
        "{err:?}"
    );
    assert!(err.stderr.contains("hint: "), "{err:?}");
    for (id, why) in [
        ("CON", "device name on Windows"),
        ("x:y", "Windows does not allow"),
        ("evil\u{202e}txt", "text-direction"),
    ] {
        let err = create(id);
        assert!(err.failed().contains(why), "{id:?}: {err:?}");
        assert!(
            !err.stderr.contains('\u{202e}'),
            "raw override printed: {err:?}"
        );
    }
    let err = viben(h, &["providers", "set", "Ollama"]);
    assert!(err.failed().contains("only in case"), "{err:?}");
    let list = viben(h, &["agents", "list", "--json"]);
    assert_eq!(list.json().as_array().map(Vec::len), Some(1), "{list:?}");
}
