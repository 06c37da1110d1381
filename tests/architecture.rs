//! The module arrows point down: no cycle, and no arrow that `arrows.rules` forbids. The check is the shared
//! `arrows` tool; this test makes a wrong arrow fail CI.

use std::path::Path;
use std::process::Command;

#[test]
fn module_arrows_follow_the_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tool = root.join("../shared/tools/arrows");
    assert!(tool.exists(), "the arrows tool is missing at {}", tool.display());
    let output = Command::new("python3")
        .arg(&tool)
        .arg("--check")
        .arg(root.join("arrows.rules"))
        .current_dir(root)
        .output()
        .expect("python3 runs the arrows tool");
    let text = String::from_utf8_lossy(&output.stdout);
    let problems: Vec<&str> = text.lines().filter(|l| l.starts_with("CYCLE") || l.starts_with("FORBIDDEN")).collect();
    assert!(
        output.status.success() && problems.is_empty(),
        "{}\n{}",
        problems.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains(" 0 cycles"), "{text}");
}

/// Only `main`, `cli`, `app` and `generate` name clap: nothing below the application knows the command line.
#[test]
fn only_the_application_knows_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    visit(&src, &mut |path, text| {
        let relative = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let allowed = ["main.rs", "cli.rs", "generate.rs"].contains(&relative.as_str())
            || relative.starts_with("app/")
            || relative.starts_with("cli/");
        if !allowed && text.contains("clap") {
            offenders.push(relative);
        }
    });
    assert!(offenders.is_empty(), "clap named outside the application: {offenders:?}");
}

/// The SMTP core has no I/O: no socket, no clock read, no terminal.
#[test]
fn the_smtp_core_does_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/smtp");
    let mut offenders = Vec::new();
    visit(&src, &mut |path, text| {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for needle in ["std::net", "TcpStream", "Instant::now", "SystemTime::now", "println!", "eprintln!", "std::fs"] {
            if code.contains(needle) {
                offenders.push(format!("{}: {needle}", path.display()));
            }
        }
    });
    assert!(offenders.is_empty(), "{offenders:?}");
}

fn visit(dir: &Path, check: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, check);
        } else if path.extension().is_some_and(|e| e == "rs") {
            check(&path, &std::fs::read_to_string(&path).unwrap());
        }
    }
}
