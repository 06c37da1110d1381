//! The bytes a message is made of when the user gives them (`--data`, `--attach`): held in memory when they
//! are small, and otherwise read from their file each time the message is written (once to measure it, once
//! to send it), so that memory stays flat whatever the size. Standard input cannot be read twice: beyond
//! [`SPOOL_ABOVE`] it is spooled to an unlinked temporary file first.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crate::smtp::codec::{self, Facts};

/// Input up to this size is simply held in memory. It is most of a big message's peak on standard input (read
/// into memory before it is known to be big), so it is kept small: a file costs little to read twice.
pub const SPOOL_ABOVE: usize = 1024 * 1024;
/// Each read from a file.
const BLOCK: usize = 64 * 1024;

/// Bytes given by the user.
#[derive(Debug, Clone)]
pub enum Input {
    Memory(Vec<u8>),
    File(Arc<FileInput>),
}

/// An open file and the part of it that is the input, with what it looked like when it was opened: a file
/// that changes between the measuring pass and the sending pass is an error, never a message of another
/// size than the one announced.
#[derive(Debug)]
pub struct FileInput {
    file: File,
    /// The path as the user gave it, or "stdin" for a spool file.
    shown: String,
    offset: u64,
    length: u64,
    file_length: u64,
    modified: Option<SystemTime>,
    /// What measuring the whole input finds, when it was measured as it was spooled.
    facts: Option<Facts>,
}

impl Input {
    /// Open `path` (`-` is standard input). A file bigger than [`SPOOL_ABOVE`] is kept open and read when the
    /// message is written; standard input bigger than that is spooled.
    pub fn open(path: &Path, stdin: &mut dyn Read) -> io::Result<Input> {
        if path == Path::new("-") {
            return Input::spool(stdin, "stdin");
        }
        let mut file = File::open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            // A pipe or a device (/dev/stdin, a process substitution) cannot be read twice.
            return Input::spool(&mut file, &path.display().to_string());
        }
        if metadata.len() <= SPOOL_ABOVE as u64 {
            let mut bytes = Vec::with_capacity(metadata.len() as usize);
            file.read_to_end(&mut bytes)?;
            return Ok(Input::Memory(bytes));
        }
        Ok(Input::file(file, path, metadata))
    }

    /// A regular file read when the message is written, whatever its size.
    pub fn open_file(path: &Path) -> io::Result<Input> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        Ok(Input::file(file, path, metadata))
    }

    fn file(file: File, path: &Path, metadata: std::fs::Metadata) -> Input {
        Input::File(Arc::new(FileInput {
            shown: path.display().to_string(),
            offset: 0,
            length: metadata.len(),
            file_length: metadata.len(),
            modified: metadata.modified().ok(),
            facts: None,
            file,
        }))
    }

    /// Read a stream that cannot be read twice (standard input): into memory up to [`SPOOL_ABOVE`], and when
    /// there is more, all of it into a temporary file that is removed at once (it lives as long as the open
    /// handle; mode 0600).
    fn spool(stream: &mut dyn Read, shown: &str) -> io::Result<Input> {
        // Room for all of it at once: grown by doubling, the buffer would be touched up to twice over.
        let mut head = Vec::with_capacity(SPOOL_ABOVE + 1);
        stream.take(SPOOL_ABOVE as u64 + 1).read_to_end(&mut head)?;
        if head.len() <= SPOOL_ABOVE {
            return Ok(Input::Memory(head));
        }
        let mut file = temporary_file()?;
        // Measured on the way to the file: as the whole message (`--data -`) it need not be read back for that.
        // (As an attachment, `--attach -`, the count goes unused: the scan costs less than a second read.)
        let mut length = 0;
        let facts = codec::measure(|measure| {
            let mut both = Tee { file: &mut file, measure };
            both.write_all(&head)?;
            length = head.len() as u64 + copy_rest(stream, &mut both)?;
            Ok(())
        })?;
        drop(head);
        let metadata = file.metadata()?;
        Ok(Input::File(Arc::new(FileInput {
            file,
            shown: shown.into(),
            offset: 0,
            length,
            file_length: metadata.len(),
            modified: metadata.modified().ok(),
            facts: Some(facts),
        })))
    }

    /// The input's size, lines and 8-bit bytes as the message's measuring pass would find them, when they are
    /// known without reading it again (a spool).
    pub fn facts(&self) -> Option<Facts> {
        match self {
            Input::Memory(_) => None,
            Input::File(file) => file.facts,
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Input::Memory(bytes) => bytes.len() as u64,
            Input::File(file) => file.length,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write the whole input, in blocks.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Input::Memory(bytes) => out.write_all(bytes),
            Input::File(file) => file.each_block(BLOCK, &mut |block| out.write_all(block)),
        }
    }

    /// Call `each` with the input in blocks of exactly `block` bytes (the last may be shorter).
    pub fn each_block(&self, block: usize, each: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match self {
            Input::Memory(bytes) => bytes.chunks(block).try_for_each(each),
            Input::File(file) => file.each_block(block, each),
        }
    }

    /// The input without its first `skip` bytes (the header section a caller read and rewrote).
    pub fn after(self, skip: usize) -> Input {
        match self {
            Input::Memory(mut bytes) => {
                bytes.drain(..skip.min(bytes.len()));
                Input::Memory(bytes)
            }
            Input::File(file) => {
                let skip = (skip as u64).min(file.length);
                match Arc::try_unwrap(file) {
                    Ok(mut file) => {
                        file.offset += skip;
                        file.length -= skip;
                        file.facts = None;
                        Input::File(Arc::new(file))
                    }
                    Err(shared) => Input::File(Arc::new(FileInput {
                        file: shared.file.try_clone().expect("a file handle can be duplicated"),
                        shown: shared.shown.clone(),
                        offset: shared.offset + skip,
                        length: shared.length - skip,
                        file_length: shared.file_length,
                        modified: shared.modified,
                        facts: None,
                    })),
                }
            }
        }
    }

    /// The first bytes of the input until `enough` says it has seen what it needs (it is given the bytes read
    /// so far and whether they are all there is); from a file, `limit` bytes at most. Input in memory is
    /// given whole.
    pub fn head(&self, limit: usize, enough: impl Fn(&[u8], bool) -> bool) -> io::Result<Vec<u8>> {
        match self {
            Input::Memory(bytes) => Ok(bytes.clone()),
            Input::File(file) => {
                let mut head = Vec::new();
                let mut block = vec![0; BLOCK];
                loop {
                    let all = head.len() as u64 >= file.length;
                    if all || head.len() >= limit || enough(&head, all) {
                        return Ok(head);
                    }
                    let want = (file.length - head.len() as u64).min(BLOCK as u64) as usize;
                    let n = file.file.read_at(&mut block[..want], file.offset + head.len() as u64)?;
                    if n == 0 {
                        return Err(file.changed());
                    }
                    head.extend_from_slice(&block[..n]);
                }
            }
        }
    }
}

impl FileInput {
    fn changed(&self) -> io::Error {
        io::Error::other(format!("{} changed after postie measured the message", self.shown))
    }

    /// Read the input again, checking first that the file is as it was when opened, and counting: a file
    /// that got shorter or longer in the meantime is an error before the bytes it would change are used.
    fn each_block(&self, block: usize, each: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let metadata = self.file.metadata()?;
        if metadata.len() != self.file_length || metadata.modified().ok() != self.modified {
            return Err(self.changed());
        }
        let mut buffer = vec![0; block];
        let mut done = 0u64;
        while done < self.length {
            let want = (self.length - done).min(block as u64) as usize;
            let mut filled = 0;
            while filled < want {
                let n = self.file.read_at(&mut buffer[filled..want], self.offset + done + filled as u64)?;
                if n == 0 {
                    return Err(self.changed());
                }
                filled += n;
            }
            each(&buffer[..want])?;
            done += want as u64;
        }
        if self.offset + self.length == self.file_length && self.file.read_at(&mut [0], self.file_length)? != 0 {
            return Err(self.changed());
        }
        Ok(())
    }
}

/// Copy the rest of `from` into `to`; how many bytes.
/// Writes to the spool file and to the measuring pass.
struct Tee<'a> {
    file: &'a mut File,
    measure: &'a mut dyn Write,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_all(buf)?;
        self.measure.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn copy_rest(from: &mut dyn Read, to: &mut dyn Write) -> io::Result<u64> {
    let mut buffer = vec![0; BLOCK];
    let mut total = 0;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        to.write_all(&buffer[..n])?;
        total += n as u64;
    }
}

/// A new file in the temporary directory ($TMPDIR), readable by this user only, already unlinked.
fn temporary_file() -> io::Result<File> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let directory = std::env::temp_dir();
    for _ in 0..100 {
        let path: PathBuf = directory.join(format!(
            "postie-spool-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos()
        ));
        match OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path) {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("cannot spool stdin to {}: {error}", directory.display()),
                ))
            }
        }
    }
    Err(io::Error::other(format!("cannot spool stdin: no free name in {}", directory.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &Input, block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        input
            .each_block(block, &mut |b| {
                assert!(b.len() <= block);
                out.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn big_stdin_is_spooled_and_read_twice() {
        let data: Vec<u8> = (0..SPOOL_ABOVE + 100_000).map(|i| (i % 251) as u8).collect();
        let input = Input::open(Path::new("-"), &mut &data[..]).unwrap();
        assert!(matches!(input, Input::File(_)));
        assert_eq!(input.len(), data.len() as u64);
        assert_eq!(collect(&input, 65536), data);
        assert_eq!(collect(&input, 57 * 1000), data);
        // Measured as it was spooled: the same facts as measuring it again.
        let measured = codec::measure(|out| input.write_to(out)).unwrap();
        assert_eq!(input.facts(), Some(measured));
        let rest = input.after(10);
        assert_eq!(collect(&rest, 4096), data[10..]);
        assert_eq!(rest.facts(), None, "the facts were of the whole input");
        let small = Input::open(Path::new("-"), &mut &b"hello"[..]).unwrap();
        assert!(matches!(&small, Input::Memory(b) if b == b"hello"));
    }

    #[test]
    fn a_file_that_changes_is_an_error() {
        let dir = std::env::temp_dir().join(format!("postie-input-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big");
        std::fs::write(&path, vec![b'a'; SPOOL_ABOVE + 1]).unwrap();
        let input = Input::open(&path, &mut io::empty()).unwrap();
        assert!(matches!(input, Input::File(_)));
        assert_eq!(collect(&input, 65536).len(), SPOOL_ABOVE + 1);
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"more").unwrap();
        let error = input.each_block(65536, &mut |_| Ok(())).unwrap_err();
        assert!(error.to_string().ends_with("changed after postie measured the message"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
