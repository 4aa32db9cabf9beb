//! Program loading: `#!` scripts, ELF executables (static, static-pie, dynamic PIE and non-PIE
//! with an interpreter), and the initial stack with argv, envp and the auxiliary vector.
//!
//! Loading maps read-only segments from the page cache (`mm::cache`) and copies the others into
//! fresh anonymous memory; the platform never maps instance files directly (on a protected
//! image their contents are verified first).

mod elf;
mod stack;

use crate::error::{Error, Result};
use crate::fs::{FileOps, Loc, S_IFMT, S_IFREG};
use crate::process::Process;
use crate::root::kernel;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use veil_abi::general as g;
use veil_abi::{Errno, PAGE_SIZE};
use veil_platform::UserRegs;

/// How many `#!` scripts may lead to the program (Linux's exec follows 5: a sixth fails with
/// ELOOP).
const MAX_SCRIPT_DEPTH: usize = 5;
/// Longest `#!` line Linux reads.
const SHEBANG_MAX: usize = 256;

/// Why a program could not be executed: the errno `execve` returns and a sentence for humans.
#[derive(Debug)]
pub struct ExecError {
    pub error: Error,
    pub reason: String,
    /// The old program was already torn down: the process cannot continue.
    pub fatal: bool,
    /// The program does not fit in the address space the process shares (its fixed range is
    /// taken): it can run in an address space of its own.
    pub no_room: bool,
}

impl ExecError {
    fn new(errno: Errno, reason: String) -> ExecError {
        ExecError {
            error: Error::from(errno),
            reason,
            fatal: false,
            no_room: false,
        }
    }

    fn fatal(reason: String) -> ExecError {
        ExecError {
            error: Error::from(Errno::ENOMEM),
            reason,
            fatal: true,
            no_room: false,
        }
    }
}

impl From<Error> for ExecError {
    fn from(error: Error) -> ExecError {
        let reason = String::from(describe(error.errno));
        ExecError {
            error,
            reason,
            fatal: false,
            no_room: false,
        }
    }
}

/// A short human description of an exec errno.
fn describe(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "No such file or directory",
        Errno::EACCES => "Permission denied",
        Errno::ENOEXEC => "Exec format error",
        Errno::ENOTDIR => "Not a directory",
        Errno::ELOOP => "Too many levels of symbolic links or interpreters",
        Errno::E2BIG => "Argument list too long",
        Errno::ENOMEM => "Cannot allocate memory",
        Errno::EFAULT => "Bad address",
        Errno::ENAMETOOLONG => "File name too long",
        _ => "cannot load the program",
    }
}

/// An opened executable file.
#[derive(Clone)]
pub(crate) struct ExecFile {
    pub loc: Loc,
    pub ops: Arc<dyn FileOps>,
    pub size: u64,
    /// The file's status when opened (the page cache's key).
    pub stat: veil_abi::general::stat,
    /// Its first page (all of it if shorter), read once: the `#!` line, the ELF header and
    /// usually the program headers lie there.
    head: Arc<Vec<u8>>,
}

impl ExecFile {
    fn open(base: &Loc, path: &[u8]) -> core::result::Result<ExecFile, ExecError> {
        let loc = kernel().mounts.resolve(base, path, true)?;
        let st = loc.inode().stat()?;
        if st.st_mode & S_IFMT != S_IFREG {
            return Err(ExecError::new(
                Errno::EACCES,
                "Permission denied (not a regular file)".into(),
            ));
        }
        if st.st_mode & 0o111 == 0 {
            return Err(ExecError::new(
                Errno::EACCES,
                "Permission denied (not executable)".into(),
            ));
        }
        let ops = loc.inode().open(g::O_RDONLY)?;
        let head = read_at(&*ops, 0, PAGE_SIZE)?;
        Ok(ExecFile {
            loc,
            ops,
            size: st.st_size.max(0) as u64,
            stat: st,
            head: Arc::new(head),
        })
    }

    /// Reads up to `len` bytes at `offset` (short at end of file).
    pub fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let (start, end) = (offset as usize, (offset as usize).saturating_add(len));
        // A head shorter than a page is the whole file.
        if end <= self.head.len() || self.head.len() < PAGE_SIZE {
            let clamp = |at: usize| at.min(self.head.len());
            return Ok(self.head[clamp(start)..clamp(end)].to_vec());
        }
        read_at(&*self.ops, offset, len)
    }
}

/// Reads up to `len` bytes of `file` at `offset` (short at end of file).
fn read_at(file: &dyn FileOps, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = alloc::vec![0u8; len];
    let done = crate::fs::read_exact_at(file, offset, &mut buf)?;
    buf.truncate(done);
    Ok(buf)
}

/// Unmaps and forgets every mapping of `process`.
fn release_mappings(process: &Process) {
    let (old, images) = process.vm().lock().clear();
    crate::mm::release(old, images);
}

/// Parses a `#!` line: interpreter path and optional single argument.
fn parse_shebang(head: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let line = head.strip_prefix(b"#!")?;
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let line = &line[..end];
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_space(b))?;
    let line = &line[start..];
    let interp_end = line.iter().position(is_space).unwrap_or(line.len());
    let interp = line[..interp_end].to_vec();
    let rest = &line[interp_end..];
    let arg = rest
        .iter()
        .position(|b| !is_space(b))
        .map(|s| {
            let a = &rest[s..];
            let e = a.iter().rposition(|b| !is_space(b)).map_or(0, |e| e + 1);
            a[..e].to_vec()
        })
        .filter(|a| !a.is_empty());
    Some((interp, arg))
}

/// What a successful load produced.
pub struct Loaded {
    pub regs: UserRegs,
}

/// Replaces the program of `process` (which must have no other live threads) with the program at
/// `path`, resolved from `base`. On error before the point of no return the old program is intact.
pub fn exec(
    process: &Arc<Process>,
    base: &Loc,
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> core::result::Result<Loaded, ExecError> {
    load(process, &prepare(base, path, argv, envp)?)
}

/// A program found, its `#!` lines followed and its ELF files checked: everything `execve`
/// can fail on before the old program is torn down.
#[derive(Clone)]
pub struct Prepared {
    file: ExecFile,
    main: elf::Parsed,
    interp: Option<(ExecFile, elf::Parsed)>,
    exec_path: Vec<u8>,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
}

impl Prepared {
    /// The host fds its files are read through (the program, its interpreter).
    pub fn host_fds(&self) -> impl Iterator<Item = veil_platform::HostFd> {
        let interp = self.interp.as_ref().map(|(file, _)| file);
        core::iter::once(&self.file)
            .chain(interp)
            .filter_map(|file| file.ops.host_fd())
    }
}

/// Finds and checks the program at `path` (from `base`) without touching any process.
pub fn prepare(
    base: &Loc,
    path: &[u8],
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> core::result::Result<Prepared, ExecError> {
    let mut file = ExecFile::open(base, path)?;
    let mut exec_path = path.to_vec();
    let mut depth = 0;
    let mut head = file.read(0, SHEBANG_MAX)?;
    while head.starts_with(b"#!") {
        depth += 1;
        if depth > MAX_SCRIPT_DEPTH {
            return Err(ExecError::new(
                Errno::ELOOP,
                "too many nested #! interpreters".into(),
            ));
        }
        let Some((interp, arg)) = parse_shebang(&head) else {
            return Err(ExecError::new(Errno::ENOEXEC, "empty #! line".into()));
        };
        let mut new_argv = alloc::vec![interp.clone()];
        new_argv.extend(arg);
        new_argv.push(exec_path.clone());
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        file = ExecFile::open(base, &interp).map_err(|e| ExecError {
            reason: format!(
                "interpreter {}: {}",
                String::from_utf8_lossy(&interp),
                e.reason
            ),
            ..e
        })?;
        exec_path = interp;
        head = file.read(0, SHEBANG_MAX)?;
    }
    let main = elf::parse(&file).map_err(|reason| ExecError::new(Errno::ENOEXEC, reason))?;
    let interp = match &main.interp {
        Some(ipath) => {
            let root = kernel().mounts.root();
            let ifile = ExecFile::open(&root, ipath).map_err(|e| ExecError {
                reason: format!(
                    "interpreter {}: {}",
                    String::from_utf8_lossy(ipath),
                    e.reason
                ),
                ..e
            })?;
            let parsed = elf::parse(&ifile).map_err(|reason| {
                ExecError::new(
                    Errno::ELIBBAD,
                    format!("interpreter {}: {reason}", String::from_utf8_lossy(ipath)),
                )
            })?;
            if parsed.interp.is_some() {
                return Err(ExecError::new(
                    Errno::ELIBBAD,
                    "the interpreter itself has an interpreter".into(),
                ));
            }
            Some((ifile, parsed))
        }
        None => None,
    };
    Ok(Prepared {
        file,
        main,
        interp,
        exec_path,
        argv,
        envp,
    })
}

/// Replaces the program of `process` with `prepared`. The caller (execve) has made its
/// process's other threads leave: the new program starts with the calling thread alone.
pub fn load(
    process: &Arc<Process>,
    prepared: &Prepared,
) -> core::result::Result<Loaded, ExecError> {
    let Prepared {
        file,
        main,
        interp,
        exec_path,
        argv,
        envp,
    } = prepared;
    // A vfork child borrows its parent's memory: the new program gets fresh mappings, and a
    // failure to place it can still be reported to the child (the borrowed memory is intact).
    let borrowed = process.vm_is_shared().then(|| {
        let old = process.vm();
        process.set_vm(alloc::sync::Arc::new(crate::sync::Mutex::new(
            crate::mm::Vm::default(),
        )));
        old
    });
    if borrowed.is_none() {
        release_mappings(process);
    }
    let fail = |reason: String| match &borrowed {
        Some(old) => {
            // Inside `hold_mappings` already (the fork fence is not re-entrant).
            let (new, images) = process.vm().lock().clear();
            kernel().kept_images.release(new, images);
            process.set_vm(old.clone());
            ExecError {
                no_room: true,
                ..ExecError::new(Errno::ENOMEM, reason)
            }
        }
        None => ExecError::fatal(reason),
    };
    // Mapped and recorded with no copy of the address space made in between (a thread of
    // another process may fork it meanwhile).
    let mut mapped = Err(ExecError::fatal(String::new()));
    kernel().platform.hold_mappings(&mut || {
        mapped = (|| {
            let main_map = elf::load(process, file, main, true).map_err(&fail)?;
            let interp_map = match interp {
                Some((ifile, parsed)) => {
                    Some(elf::load(process, ifile, parsed, false).map_err(&fail)?)
                }
                None => None,
            };
            let layout = stack::StackInput {
                argv,
                envp,
                execfn: exec_path,
                phdr: main_map.phdr,
                phnum: main.phnum as u64,
                entry: main_map.entry,
                interp_base: interp_map.as_ref().map_or(0, |i| i.base),
            };
            let (rsp, auxv) = stack::build(process, &layout).map_err(ExecError::fatal)?;
            Ok((main_map, interp_map, rsp, auxv))
        })();
    });
    let (main_map, interp_map, rsp, auxv) = mapped?;
    let entry = interp_map.as_ref().map_or(main_map.entry, |i| i.entry);
    let exe_path = file.loc.path.clone();
    {
        let mut info = process.exec.lock();
        info.exe = exe_path;
        info.cmdline = argv
            .iter()
            .flat_map(|a| a.iter().copied().chain([0]))
            .collect();
        info.environ = envp
            .iter()
            .flat_map(|a| a.iter().copied().chain([0]))
            .collect();
        let name = exec_path.rsplit(|&b| b == b'/').next().unwrap_or(exec_path);
        info.comm = name[..name.len().min(15)].to_vec();
        info.auxv = auxv;
    }
    let regs = UserRegs {
        rip: entry,
        rsp,
        rflags: 0x202,
        ..UserRegs::default()
    };
    Ok(Loaded { regs })
}

#[cfg(test)]
mod tests {
    use super::parse_shebang;

    #[test]
    fn shebang_forms() {
        assert_eq!(
            parse_shebang(b"#!/bin/sh\n"),
            Some((b"/bin/sh".to_vec(), None))
        );
        assert_eq!(
            parse_shebang(b"#! /usr/bin/env  python3 \nx"),
            Some((b"/usr/bin/env".to_vec(), Some(b"python3".to_vec())))
        );
        assert_eq!(
            parse_shebang(b"#!/bin/a -x -y\n"),
            Some((b"/bin/a".to_vec(), Some(b"-x -y".to_vec())))
        );
        assert_eq!(parse_shebang(b"#!   \n"), None);
        assert_eq!(parse_shebang(b"\x7fELF"), None);
    }
}
