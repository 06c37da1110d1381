//! Hiding secret argument values from the process list, as curl does.
//!
//! `/proc/<pid>/cmdline`, which `ps` shows to every user of the machine, is read from the process's own
//! argument memory. A password given as `--password TEXT` would be readable there for as long as postie
//! runs, so once the arguments are parsed its bytes are overwritten in place; the kernel keeps no other
//! copy. The value's length still shows, and so does the value itself in the moment between exec and the
//! overwrite: `--password-env` and `--password-file` remain the better choice.
//!
//! Rust's std does not give out the address of argv, so it is captured here the way std itself captures it
//! on glibc: a function in the `.init_array` section, which glibc calls before `main` with argc, argv and
//! envp. Elsewhere nothing is captured and nothing is hidden.

use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicIsize, AtomicPtr, Ordering};

/// What replaces each byte of a hidden value.
const PLACEHOLDER: u8 = b'*';

static ARGC: AtomicIsize = AtomicIsize::new(0);
static ARGV: AtomicPtr<*mut c_char> = AtomicPtr::new(std::ptr::null_mut());

/// glibc calls the functions in `.init_array` of the executable with (argc, argv, envp).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
static CAPTURE_ARGUMENTS: extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) = capture_arguments;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn capture_arguments(argc: c_int, argv: *mut *mut c_char, _envp: *mut *mut c_char) {
    ARGC.store(argc as isize, Ordering::Relaxed);
    ARGV.store(argv, Ordering::Relaxed);
}

/// Overwrite the value of each of `flags` (given as `--flag VALUE` or `--flag=VALUE`) in the process's own
/// argument memory with `*`, so that the process list no longer shows it; arguments after `--` are left
/// alone. Returns how many values were hidden.
///
/// Call it once the arguments are parsed and before other threads start: `std::env::args` reads the same
/// memory, and afterwards sees the placeholders.
pub fn hide_argument_values(flags: &[&str]) -> usize {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // Refer to the constructor from here, so that the linker keeps it whenever this function is linked in.
    std::hint::black_box(&CAPTURE_ARGUMENTS);
    let argc = usize::try_from(ARGC.load(Ordering::Relaxed)).unwrap_or(0);
    let argv = ARGV.load(Ordering::Relaxed);
    if argv.is_null() {
        return 0;
    }
    let arguments = (0..argc).filter_map(|i| {
        // SAFETY: glibc passed argc pointers in argv, each null or a NUL-terminated string that the program may
        // modify (C11 §5.1.2.2.1); they live for the whole process. std reaches them only through raw
        // pointers, so no Rust reference to them exists while this one does (see the thread rule above).
        unsafe {
            let argument = *argv.add(i);
            if argument.is_null() {
                return None;
            }
            let length = CStr::from_ptr(argument).to_bytes().len();
            Some(std::slice::from_raw_parts_mut(argument.cast::<u8>(), length))
        }
    });
    hide_values(arguments.skip(1), flags)
}

/// The rule, on any list of arguments (the program name excluded).
fn hide_values<'a>(arguments: impl Iterator<Item = &'a mut [u8]>, flags: &[&str]) -> usize {
    let mut hidden = 0;
    let mut value_follows = false;
    for argument in arguments {
        if value_follows {
            argument.fill(PLACEHOLDER);
            hidden += 1;
            value_follows = false;
            continue;
        }
        if argument == b"--" {
            break;
        }
        for flag in flags.iter().map(|flag| flag.as_bytes()) {
            if argument == flag {
                value_follows = true;
            } else if argument.starts_with(flag) && argument.get(flag.len()) == Some(&b'=') {
                argument[flag.len() + 1..].fill(PLACEHOLDER);
                hidden += 1;
            }
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hide(arguments: &[&str]) -> (Vec<String>, usize) {
        let mut owned: Vec<Vec<u8>> = arguments.iter().map(|a| a.as_bytes().to_vec()).collect();
        let hidden = hide_values(owned.iter_mut().map(Vec::as_mut_slice), &["--password", "--token"]);
        (owned.into_iter().map(|a| String::from_utf8(a).unwrap()).collect(), hidden)
    }

    #[test]
    fn values_of_the_flags_are_overwritten() {
        assert_eq!(
            hide(&["send", "--password", "hunter2", "--to", "b@x.test", "--password=s3cr=t", "--token="]),
            (
                ["send", "--password", "*******", "--to", "b@x.test", "--password=******", "--token="]
                    .map(String::from)
                    .to_vec(),
                3
            )
        );
    }

    #[test]
    fn other_arguments_are_left_alone() {
        let untouched = ["--password-file", "p.txt", "--passwords", "x", "--", "--password", "literal"];
        assert_eq!(hide(&untouched), (untouched.map(String::from).to_vec(), 0));
        assert_eq!(hide(&["--password"]), (vec!["--password".to_string()], 0), "no value to hide");
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn this_process_arguments_are_captured() {
        // The test binary's own arguments hold no --password; what matters is that argv was captured at all.
        assert!(!ARGV.load(Ordering::Relaxed).is_null());
        assert!(ARGC.load(Ordering::Relaxed) >= 1);
        assert_eq!(hide_argument_values(&["--no-such-flag-in-tests"]), 0);
    }
}
