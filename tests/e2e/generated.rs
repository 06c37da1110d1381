//! Files generated from the clap definition, and the documented exit-code table, must match the binary.

use std::fs;
use std::path::Path;

use crate::harness::postie;

#[test]
fn committed_completions_and_man_pages_match_the_binary() {
    let out = crate::harness::scratch_dir("generated");
    let _ = fs::remove_dir_all(&out);
    postie(["generate", "--out", out.to_str().unwrap()]).run().expect_code(0);
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for dir in ["completions", "man"] {
        for entry in fs::read_dir(out.join(dir)).unwrap() {
            let generated = entry.unwrap().path();
            let committed = project.join(dir).join(generated.file_name().unwrap());
            let committed_bytes = fs::read(&committed)
                .unwrap_or_else(|e| panic!("{}: {e}; run `cargo run -- generate --out .`", committed.display()));
            assert!(
                committed_bytes == fs::read(&generated).unwrap(),
                "{} is out of date; run `cargo run -- generate --out .`",
                committed.display()
            );
            compared += 1;
        }
    }
    assert_eq!(
        compared, 19,
        "five shells and fourteen man pages (postie, postie-send, postie-mx, postie-probe, postie-talk, postie-script, \
         postie-smuggle, postie-load, postie-catch, postie-sendmail, postie-config, postie-config-check, postie-oauth, postie-oauth-login)"
    );
    let _ = fs::remove_dir_all(&out);
}

#[test]
fn readme_and_help_document_every_exit_code() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let help = postie(["send", "--help"]).run().expect_code(0).stdout();
    for (exit, meaning) in postie::error::EXIT_CODES {
        let row = format!("| {} | {} |", exit.code(), meaning);
        assert!(readme.contains(&row), "README.md lacks the row {row:?}");
        let first_words: String = meaning.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
        assert!(help.contains(&first_words), "send --help lacks {first_words:?}");
    }
}
