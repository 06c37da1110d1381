//! Access tokens kept until they expire, so that each send does not ask the token endpoint again: one file
//! per token endpoint, client and user (a hash of the three names it), holding the token and when it expires,
//! readable only by the user (0600, in a 0700 directory: `$XDG_CACHE_HOME/postie`, else `~/.cache/postie`).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Error, Token};

/// A token is used from the cache only while it has more than this left: a session must not outlive it.
pub const MARGIN: Duration = Duration::from_secs(60);

/// One cache file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    access_token: String,
    /// Seconds since the Unix epoch.
    expires_at: u64,
}

/// The cache directory: `$XDG_CACHE_HOME/postie` (an absolute path, as the XDG spec requires), else
/// `$HOME/.cache/postie`; none when neither is set.
pub fn directory() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base = xdg.or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("postie"))
}

impl Entry {
    /// The entry for this token endpoint, client and user, in `directory`.
    pub fn new(directory: &Path, token_url: &str, client_id: &str, user: &str) -> Entry {
        let key = format!("{token_url}\0{client_id}\0{user}");
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let name: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        Entry { path: directory.join(format!("oauth-{name}.json")) }
    }

    /// The cached token and how long it has left, if it has more than `MARGIN` and the file is the user's
    /// own and private (anything else is ignored).
    pub fn load(&self, now: SystemTime) -> Option<(Token, Duration)> {
        let metadata = fs::metadata(&self.path).ok()?;
        // SAFETY: geteuid has no preconditions.
        if metadata.uid() != unsafe { libc::geteuid() } || metadata.mode() & 0o077 != 0 || metadata.len() > 64 * 1024 {
            return None;
        }
        let stored: Stored = serde_json::from_slice(&fs::read(&self.path).ok()?).ok()?;
        let left = Duration::from_secs(stored.expires_at.checked_sub(unix(now))?);
        (left > MARGIN && !stored.access_token.is_empty()).then(|| (Token::new(stored.access_token), left))
    }

    /// Keep `token` until `expires_in` from `now`: written to a new private file, then renamed into place.
    pub fn store(&self, token: &Token, expires_in: Duration, now: SystemTime) -> Result<(), Error> {
        let stored = Stored { access_token: token.expose().to_string(), expires_at: unix(now) + expires_in.as_secs() };
        let text = serde_json::to_vec(&stored).expect("a string and a number serialise");
        let error = |path: &Path| {
            let path = path.display().to_string();
            move |cause| Error::Store { path, cause }
        };
        if let Some(dir) = self.path.parent() {
            private_directory(dir).map_err(error(dir))?;
        }
        let temporary = self.path.with_extension(format!("tmp.{}", std::process::id()));
        let _ = fs::remove_file(&temporary);
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| file.write_all(&text).and_then(|()| file.sync_all()))
            .and_then(|()| fs::rename(&temporary, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.map_err(error(&self.path))
    }

    /// Forget the token (the server refused it).
    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Create `dir` (and its parents) and make it the user's alone.
pub fn private_directory(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("postie-cache-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_token_is_kept_privately_until_a_minute_before_it_expires() {
        let dir = scratch("keep");
        let entry = Entry::new(&dir.join("postie"), "https://x.test/token", "client", "bob");
        let now = SystemTime::now();
        entry.store(&Token::new("tok".into()), Duration::from_secs(3600), now).unwrap();
        assert_eq!(fs::metadata(&entry.path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(dir.join("postie")).unwrap().mode() & 0o777, 0o700);
        let (token, left) = entry.load(now).unwrap();
        assert_eq!((token.expose(), left), ("tok", Duration::from_secs(3600)));
        assert!(entry.load(now + Duration::from_secs(3541)).is_none());
        entry.remove();
        assert!(entry.load(now).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_others_can_read_is_ignored() {
        let dir = scratch("open");
        let entry = Entry::new(&dir, "https://x.test/token", "client", "bob");
        let now = SystemTime::now();
        entry.store(&Token::new("tok".into()), Duration::from_secs(3600), now).unwrap();
        fs::set_permissions(&entry.path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(entry.load(now).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_endpoint_client_and_user_has_its_own_entry() {
        let dir = Path::new("/c");
        let a = Entry::new(dir, "https://x.test/token", "client", "bob");
        assert_ne!(a, Entry::new(dir, "https://x.test/token", "client", "carol"));
        assert_ne!(a, Entry::new(dir, "https://x.test/token", "other", "bob"));
        assert_ne!(a, Entry::new(dir, "https://y.test/token", "client", "bob"));
        assert!(!a.path.to_string_lossy().contains("bob"));
    }
}
