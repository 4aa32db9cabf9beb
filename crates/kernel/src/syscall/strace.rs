//! `--strace`: one line per syscall with decoded arguments and the result, like strace(1).

use super::table::Entry;
use crate::root::kernel;
use crate::user;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use veil_abi::Errno;
use veil_abi::general as g;
use veil_platform::HostFd;

/// How many bytes of a buffer or string a trace line shows.
const SHOW: usize = 48;

/// Syscalls whose trace line is written before they run (they do not return).
pub fn never_returns(name: &str) -> bool {
    matches!(name, "exit" | "exit_group")
}

fn quote(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes.iter().take(SHOW) {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if bytes.len() > SHOW {
        out.push_str("...");
    }
}

fn format_arg(kind: u8, value: u64, next: u64, out: &mut String) {
    match kind {
        b'd' => {
            let _ = write!(out, "{}", value as i64);
        }
        b'u' => {
            let _ = write!(out, "{value}");
        }
        b'o' if value == 0 => out.push('0'),
        b'o' => {
            let _ = write!(out, "0{value:o}");
        }
        b'f' => {
            if value as u32 as i32 == g::AT_FDCWD {
                out.push_str("AT_FDCWD");
            } else {
                let _ = write!(out, "{}", value as u32 as i32);
            }
        }
        b's' => match user::read_cstr(value, 4096) {
            Ok(s) => quote(&s, out),
            Err(_) => {
                let _ = write!(out, "{value:#x}");
            }
        },
        b'b' => match user::read_bytes(value, (next as usize).min(SHOW + 1)) {
            Ok(data) => quote(&data, out),
            Err(_) => {
                let _ = write!(out, "{value:#x}");
            }
        },
        b'p' | b'B' if value == 0 => out.push_str("NULL"),
        _ => {
            let _ = write!(out, "{value:#x}");
        }
    }
}

/// `name(arg, arg, ...)` for a syscall about to run.
pub fn format_call(nr: u64, entry: Option<&Entry>, args: &[u64; 6]) -> String {
    let pid = crate::process::current_thread().tid;
    let mut out = format!("[pid {pid}] ");
    let Some(entry) = entry else {
        let _ = write!(
            out,
            "syscall_{nr}({:#x}, {:#x}, {:#x})",
            args[0], args[1], args[2]
        );
        return out;
    };
    out.push_str(entry.name);
    out.push('(');
    for (i, kind) in entry.args.bytes().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // Output buffers are shown after the call, with the returned length.
        let value = args[i];
        if kind == b'B' {
            let _ = write!(out, "{value:#x}");
        } else {
            format_arg(kind, value, args.get(i + 1).copied().unwrap_or(0), &mut out);
        }
    }
    out.push(')');
    out
}

/// The result part of a trace line.
pub fn format_result(entry: Option<&Entry>, args: &[u64; 6], ret: u64) -> String {
    if let Some(errno) = Errno::from_syscall_return(ret as i64) {
        return format!("-1 {} ({})", errno.name(), errno.0);
    }
    let mut out = if ret > 0xffff_ffff {
        format!("{ret:#x}")
    } else {
        format!("{}", ret as i64)
    };
    if let Some(i) = entry.and_then(|e| e.args.bytes().position(|k| k == b'B')) {
        out.push(' ');
        if let Ok(data) = user::read_bytes(args[i], (ret as usize).min(SHOW + 1)) {
            quote(&data, &mut out);
        }
    }
    out
}

/// Writes one trace line.
/// With `--strace`, the line of thread `tid` resuming from the vfork that lent its host thread
/// (the syscall's own line ended with `= ?`).
pub fn resumed(tid: i32, result: u64) {
    if let Some(fd) = kernel().strace {
        emit(
            fd,
            &format!("[pid {tid}] <... resumed>"),
            &format!("{}", result as i64),
        );
    }
}

pub fn emit(fd: HostFd, call: &str, result: &str) {
    let line = format!("{call} = {result}\n");
    let _ = kernel().platform.host().write(fd, line.as_bytes());
}
