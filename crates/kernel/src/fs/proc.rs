//! `/proc`: process information (`self`, `<pid>/...`) and system information rendered from
//! kernel state (and, for `cpuinfo`, from the platform).

use super::synth::{SynthInode, SynthKind};
use super::{FileSystem, InodeRef, OpenFile};
use crate::error::Result;
use crate::process::{Process, cpu, current_process};
use crate::root::kernel;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt::Write;
use veil_abi::Errno;
use veil_abi::general as g;

const PROC_MAGIC: i64 = 0x9fa0;

/// The proc file system.
pub struct ProcFs {
    me: Weak<ProcFs>,
}

impl ProcFs {
    pub fn new() -> Arc<ProcFs> {
        Arc::new_cyclic(|me| ProcFs { me: me.clone() })
    }

    fn id(&self) -> usize {
        self.me.as_ptr() as usize
    }

    fn node(&self, ino: u64, perm: u32, kind: SynthKind) -> InodeRef {
        SynthInode::build(self.id(), PROC_MAGIC, ino, perm, kind)
    }

    fn file(
        &self,
        ino: u64,
        render: impl Fn() -> Result<Vec<u8>> + Send + Sync + 'static,
    ) -> InodeRef {
        self.node(ino, 0o444, SynthKind::File(Box::new(render)))
    }

    fn link(
        &self,
        ino: u64,
        render: impl Fn() -> Result<Vec<u8>> + Send + Sync + 'static,
    ) -> InodeRef {
        self.node(ino, 0o777, SynthKind::Link(Box::new(render)))
    }

    fn root_entries(self: Arc<Self>) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        let mut out: Vec<(Vec<u8>, InodeRef)> = Vec::new();
        out.push((
            b"self".to_vec(),
            self.link(2, || Ok(format!("{}", current_process().pid).into_bytes())),
        ));
        out.push((
            b"thread-self".to_vec(),
            self.link(3, || {
                let t = crate::process::current_thread();
                Ok(format!("{}/task/{}", t.process.pid, t.tid).into_bytes())
            }),
        ));
        out.push((b"cpuinfo".to_vec(), self.file(4, render_cpuinfo)));
        out.push((b"meminfo".to_vec(), self.file(5, render_meminfo)));
        out.push((b"mounts".to_vec(), self.file(6, render_mounts)));
        out.push((
            b"filesystems".to_vec(),
            self.file(7, || {
                Ok(
                    b"nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\thostfs\n"
                        .to_vec(),
                )
            }),
        ));
        out.push((
            b"uptime".to_vec(),
            self.file(8, || {
                let up = kernel().uptime_ns();
                Ok(format!(
                    "{}.{:02} 0.00\n",
                    up / 1_000_000_000,
                    up % 1_000_000_000 / 10_000_000
                )
                .into_bytes())
            }),
        ));
        out.push((
            b"version".to_vec(),
            self.file(9, || {
                Ok(format!(
                    "Linux version {} (veil@veil) (rustc) {}\n",
                    crate::OS_RELEASE,
                    crate::OS_VERSION
                )
                .into_bytes())
            }),
        ));
        out.push((
            b"loadavg".to_vec(),
            self.file(10, || Ok(b"0.00 0.00 0.00 1/1 1\n".to_vec())),
        ));
        let me = self.clone();
        out.push((
            b"sys".to_vec(),
            self.node(
                11,
                0o555,
                SynthKind::Dir(Box::new(move || me.clone().sys_entries())),
            ),
        ));
        let pids: Vec<i32> = kernel().processes.lock().keys().copied().collect();
        for pid in pids {
            let me = self.clone();
            let dir = self.node(
                pid_ino(pid, 0),
                0o555,
                SynthKind::Dir(Box::new(move || me.clone().pid_entries(pid, None))),
            );
            out.push((format!("{pid}").into_bytes(), dir));
        }
        Ok(out)
    }

    /// `/proc/sys`: the kernel parameters programs commonly read.
    fn sys_entries(self: Arc<Self>) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        let line = |s: &str| Ok(format!("{s}\n").into_bytes());
        let kernel_dir: Vec<(Vec<u8>, InodeRef)> = alloc::vec![
            (b"ostype".to_vec(), self.file(0x100, move || line("Linux"))),
            (
                b"osrelease".to_vec(),
                self.file(0x101, move || line(crate::OS_RELEASE))
            ),
            (
                b"version".to_vec(),
                self.file(0x102, move || line(crate::OS_VERSION))
            ),
            (
                b"hostname".to_vec(),
                self.file(0x103, || {
                    let mut h = kernel().hostname.lock().clone();
                    h.push(b'\n');
                    Ok(h)
                })
            ),
            (
                b"domainname".to_vec(),
                self.file(0x104, || {
                    let mut d = kernel().domainname.lock().clone();
                    d.push(b'\n');
                    Ok(d)
                })
            ),
            (
                b"pid_max".to_vec(),
                self.file(0x105, move || line("4194304"))
            ),
            (
                b"ngroups_max".to_vec(),
                self.file(0x106, move || line("65536"))
            ),
            (
                b"cap_last_cap".to_vec(),
                self.file(0x107, move || line("40"))
            ),
            (
                b"threads-max".to_vec(),
                self.file(0x108, move || line("126608"))
            ),
        ];
        let vm_dir: Vec<(Vec<u8>, InodeRef)> = alloc::vec![
            (
                b"overcommit_memory".to_vec(),
                self.file(0x110, move || line("0"))
            ),
            (
                b"max_map_count".to_vec(),
                self.file(0x111, move || line("65530"))
            ),
        ];
        let fs_dir: Vec<(Vec<u8>, InodeRef)> = alloc::vec![
            (
                b"file-max".to_vec(),
                self.file(0x120, move || line("9223372036854775807"))
            ),
            (
                b"nr_open".to_vec(),
                self.file(0x121, move || line("1048576"))
            ),
        ];
        let dir = |ino, entries: Vec<(Vec<u8>, InodeRef)>| {
            self.node(
                ino,
                0o555,
                SynthKind::Dir(Box::new(move || Ok(entries.clone()))),
            )
        };
        Ok(alloc::vec![
            (b"kernel".to_vec(), dir(0x10, kernel_dir)),
            (b"vm".to_vec(), dir(0x11, vm_dir)),
            (b"fs".to_vec(), dir(0x12, fs_dir)),
        ])
    }

    /// `/proc/pid` (`task` None), or `/proc/pid/task/tid` (`task` Some(tid)): the same
    /// per-process files, except that a thread's `stat` and `status` name the thread and it has
    /// no `task` directory of its own.
    fn pid_entries(
        self: Arc<Self>,
        pid: i32,
        task: Option<i32>,
    ) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        let weak = || -> Result<Weak<Process>> {
            let p = kernel()
                .processes
                .lock()
                .get(&pid)
                .cloned()
                .ok_or(Errno::ESRCH)?;
            Ok(Arc::downgrade(&p))
        };
        let with = move |w: Weak<Process>, f: fn(&Process, i32) -> Vec<u8>| {
            move || -> Result<Vec<u8>> {
                let p = w.upgrade().ok_or(Errno::ESRCH)?;
                Ok(f(&p, task.unwrap_or(pid)))
            }
        };
        let base = task_ino(pid, task, 0);
        let ino = |n| base | n;
        let mut out: Vec<(Vec<u8>, InodeRef)> = Vec::new();
        out.push((
            b"exe".to_vec(),
            self.link(
                ino(1),
                with(weak()?, |p, _| p.exec.lock().exe.clone().into_bytes()),
            ),
        ));
        out.push((
            b"cwd".to_vec(),
            self.link(ino(2), with(weak()?, |p, _| p.cwd().path.into_bytes())),
        ));
        out.push((b"root".to_vec(), self.link(ino(3), || Ok(b"/".to_vec()))));
        out.push((
            b"cmdline".to_vec(),
            self.file(ino(4), with(weak()?, |p, _| p.exec.lock().cmdline.clone())),
        ));
        out.push((
            b"environ".to_vec(),
            self.file(ino(5), with(weak()?, |p, _| p.exec.lock().environ.clone())),
        ));
        out.push((b"comm".to_vec(), {
            let target = weak()?;
            let render = with(weak()?, |p, _| {
                let mut c = p.exec.lock().comm.clone();
                c.push(b'\n');
                c
            });
            let write = move |data: &[u8]| -> Result<()> {
                let p = target.upgrade().ok_or(Errno::ESRCH)?;
                let name = data.strip_suffix(b"\n").unwrap_or(data);
                p.exec.lock().comm = name[..name.len().min(15)].to_vec();
                Ok(())
            };
            self.node(
                ino(6),
                0o644,
                SynthKind::RwFile(Box::new(render), Arc::new(write)),
            )
        }));
        out.push((
            b"maps".to_vec(),
            self.file(ino(7), with(weak()?, |p, _| render_maps(p))),
        ));
        out.push((
            b"status".to_vec(),
            self.file(ino(8), with(weak()?, render_status)),
        ));
        out.push((
            b"stat".to_vec(),
            self.file(ino(9), with(weak()?, render_stat)),
        ));
        out.push((
            b"statm".to_vec(),
            self.file(
                ino(10),
                with(weak()?, |p, _| {
                    let pages: usize = p.vm().lock().iter().map(|v| (v.end - v.start) / 4096).sum();
                    format!("{pages} 0 0 0 0 0 0\n").into_bytes()
                }),
            ),
        ));
        out.push((
            b"auxv".to_vec(),
            self.file(
                ino(11),
                with(weak()?, |p, _| {
                    let mut bytes = Vec::new();
                    for &(k, v) in p.exec.lock().auxv.iter().chain(&[(0, 0)]) {
                        bytes.extend_from_slice(&k.to_ne_bytes());
                        bytes.extend_from_slice(&v.to_ne_bytes());
                    }
                    bytes
                }),
            ),
        ));
        out.push((b"mounts".to_vec(), self.file(ino(12), render_mounts)));
        let fdinfo = move |me: Arc<Self>, w: &Weak<Process>| me.fdinfo_entries(base, w);
        let fdinfo = self.process_dir(ino(14), 0o500, weak()?, fdinfo);
        out.push((b"fdinfo".to_vec(), fdinfo));
        let fd = move |me: Arc<Self>, w: &Weak<Process>| me.fd_entries(base, w);
        out.push((
            b"fd".to_vec(),
            self.process_dir(ino(13), 0o500, weak()?, fd),
        ));
        if task.is_none() {
            let tasks = move |me: Arc<Self>, w: &Weak<Process>| me.task_entries(pid, w);
            out.push((
                b"task".to_vec(),
                self.process_dir(ino(15), 0o555, weak()?, tasks),
            ));
        }
        Ok(out)
    }

    /// A directory of process `process` whose entries `list` makes (while the process lives).
    fn process_dir(
        self: &Arc<Self>,
        ino: u64,
        perm: u32,
        process: Weak<Process>,
        list: impl Fn(Arc<Self>, &Weak<Process>) -> Result<Vec<(Vec<u8>, InodeRef)>>
        + Send
        + Sync
        + 'static,
    ) -> InodeRef {
        let me = self.clone();
        let list = move || list(me.clone(), &process);
        self.node(ino, perm, SynthKind::Dir(Box::new(list)))
    }

    /// `/proc/pid/task`: a directory per thread of the process.
    fn task_entries(
        self: Arc<Self>,
        pid: i32,
        process: &Weak<Process>,
    ) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        let process = process.upgrade().ok_or(Errno::ESRCH)?;
        let tids = process.threads.lock().clone();
        Ok(tids
            .into_iter()
            .map(|tid| {
                let me = self.clone();
                let dir = self.node(
                    task_ino(pid, Some(tid), 0),
                    0o555,
                    SynthKind::Dir(Box::new(move || me.clone().pid_entries(pid, Some(tid)))),
                );
                (format!("{tid}").into_bytes(), dir)
            })
            .collect())
    }

    /// One entry per open fd of `process`, made by `entry(fd, file)`.
    fn per_fd_entries(
        process: &Weak<Process>,
        entry: impl Fn(i32, Arc<OpenFile>) -> InodeRef,
    ) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        let process = process.upgrade().ok_or(Errno::ESRCH)?;
        let files: Vec<(i32, Arc<OpenFile>)> = process
            .fds
            .lock()
            .iter()
            .map(|(fd, e)| (fd, e.file.clone()))
            .collect();
        Ok(files
            .into_iter()
            .map(|(fd, file)| (format!("{fd}").into_bytes(), entry(fd, file)))
            .collect())
    }

    /// `/proc/pid/fd`: magic links to the open files.
    fn fd_entries(
        self: Arc<Self>,
        base: u64,
        process: &Weak<Process>,
    ) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        Self::per_fd_entries(process, |fd, file| {
            let loc = file.loc.clone();
            self.node(
                base | (1000 + fd as u64),
                0o700,
                SynthKind::MagicLink(Box::new(move || Ok(loc.clone()))),
            )
        })
    }

    /// `/proc/pid/fdinfo`: position, flags and inode of each open file.
    fn fdinfo_entries(
        self: Arc<Self>,
        base: u64,
        process: &Weak<Process>,
    ) -> Result<Vec<(Vec<u8>, InodeRef)>> {
        Self::per_fd_entries(process, |fd, file| {
            self.file(base | (0x8_0000 + fd as u64), move || {
                let ino = file.stat().map_or(0, |s| s.st_ino);
                Ok(format!(
                    "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t0\nino:\t{ino}\n",
                    *file.pos.lock(),
                    file.flags()
                )
                .into_bytes())
            })
        })
    }
}

fn pid_ino(pid: i32, n: u64) -> u64 {
    ((pid as u64) << 20) | n
}

/// Inode number `n` of `/proc/pid` or, for a thread, of `/proc/pid/task/tid`: distinct, so that
/// tree walkers do not take a thread's directory for its process's (a loop).
fn task_ino(pid: i32, task: Option<i32>, n: u64) -> u64 {
    // Pids and tids stay below 2^22 (pid_max), so the tid fits above the pid's bits.
    pid_ino(pid, n) | task.map_or(0, |tid| (tid as u64) << 42)
}

impl FileSystem for ProcFs {
    fn root(&self) -> InodeRef {
        let me = self.me.upgrade().expect("ProcFs is alive while mounted");
        self.node(
            1,
            0o555,
            SynthKind::Dir(Box::new(move || me.clone().root_entries())),
        )
    }
    fn type_name(&self) -> &'static str {
        "proc"
    }
}

fn render_mounts() -> Result<Vec<u8>> {
    let mut s = String::new();
    for (path, ty) in kernel().mounts.list() {
        let _ = writeln!(s, "{ty} {path} {ty} rw,relatime 0 0");
    }
    Ok(s.into_bytes())
}

fn render_cpuinfo() -> Result<Vec<u8>> {
    // The host's description of its CPUs (untrusted, informational only).
    let host = kernel().platform.host();
    let path = c"/proc/cpuinfo";
    let fd = host.openat(veil_platform::HostFd::CWD, path, g::O_RDONLY, 0)?;
    let mut out = Vec::new();
    let mut buf = alloc::vec![0u8; 16384];
    loop {
        match host.read(fd, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n.min(buf.len())]),
        }
        if out.len() > 1 << 20 {
            break;
        }
    }
    let _ = host.close(fd);
    Ok(out)
}

fn render_meminfo() -> Result<Vec<u8>> {
    let total_kb: u64 = 8 << 20;
    let used_kb: u64 = crate::process::all_processes()
        .iter()
        .map(|p| {
            p.vm()
                .lock()
                .iter()
                .map(|v| (v.end - v.start) as u64 / 1024)
                .sum::<u64>()
        })
        .sum::<u64>()
        .min(total_kb);
    let free = total_kb - used_kb;
    Ok(format!(
        "MemTotal:       {total_kb} kB\nMemFree:        {free} kB\nMemAvailable:   {free} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
    )
    .into_bytes())
}

fn prot_string(prot: u32, shared: bool) -> String {
    let mut s = String::new();
    s.push(if prot & g::PROT_READ != 0 { 'r' } else { '-' });
    s.push(if prot & g::PROT_WRITE != 0 { 'w' } else { '-' });
    s.push(if prot & g::PROT_EXEC != 0 { 'x' } else { '-' });
    s.push(if shared { 's' } else { 'p' });
    s
}

fn render_maps(p: &Process) -> Vec<u8> {
    use crate::mm::VmaKind;
    let mut s = String::new();
    for v in p.vm().lock().iter() {
        let (offset, name) = match &v.kind {
            VmaKind::File { path, offset, .. } => (*offset, path.clone()),
            VmaKind::Heap => (0, String::from("[heap]")),
            VmaKind::Stack => (0, String::from("[stack]")),
            VmaKind::Anonymous | VmaKind::GrowsDown => (0, String::new()),
            VmaKind::SyscallStubs => (0, String::from("[veil-syscall-stubs]")),
            VmaKind::SysvShm { key, .. } => (0, alloc::format!("/SYSV{:08x} (deleted)", key)),
        };
        let _ = write!(
            s,
            "{:08x}-{:08x} {} {:08x} 00:00 0",
            v.start,
            v.end,
            prot_string(v.prot, v.shared),
            offset
        );
        if name.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "                          {name}");
        }
    }
    if let Some(vdso) = kernel().platform.vdso_base() {
        let _ = writeln!(
            s,
            "{:08x}-{:08x} r-xp 00000000 00:00 0                          [vdso]",
            vdso,
            vdso + 8192
        );
    }
    s.into_bytes()
}

fn comm(p: &Process) -> String {
    String::from_utf8_lossy(&p.exec.lock().comm).into_owned()
}

/// `status` of process `p`, or of its thread `tid` (the pid for the process itself).
fn render_status(p: &Process, tid: i32) -> Vec<u8> {
    let vm_kb: usize = p.vm().lock().iter().map(|v| (v.end - v.start) / 1024).sum();
    let threads = p.threads.lock().len();
    let uid = crate::process::identity::UID;
    let gid = crate::process::identity::GID;
    format!(
        "Name:\t{}\nUmask:\t{:04o}\nState:\tR (running)\nTgid:\t{}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{}\nTracerPid:\t0\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nFDSize:\t64\nGroups:\t\nVmSize:\t{vm_kb} kB\nVmRSS:\t{vm_kb} kB\nThreads:\t{threads}\nSigQ:\t0/63704\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nNoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed_list:\t0-{}\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
        comm(p),
        p.fs.lock().umask,
        p.pid,
        p.ppid(),
        crate::syscall::online_cpus().saturating_sub(1),
    )
    .into_bytes()
}

/// `stat` of process `p`, or of its thread `tid` (the pid for the process itself).
fn render_stat(p: &Process, tid: i32) -> Vec<u8> {
    let vm: usize = p.vm().lock().iter().map(|v| v.end - v.start).sum();
    let start_ticks = p.start_time_ns / 10_000_000;
    let threads = p.threads.lock().len();
    // CPU times in clock ticks: the thread's in a task's stat, the process's otherwise.
    let thread = (tid != p.pid)
        .then(|| {
            crate::process::threads_of(p)
                .into_iter()
                .find(|t| t.tid == tid)
        })
        .flatten();
    let own = thread.map_or_else(|| cpu::process_time(p), |t| cpu::thread_time(&t));
    let children = cpu::children_time(p);
    let ticks = |ns: u64| ns / 10_000_000;
    let (utime, stime) = (ticks(own.user_ns), ticks(own.system_ns));
    let (cutime, cstime) = (ticks(children.user_ns), ticks(children.system_ns));
    format!(
        "{} ({}) R {} {} {} 0 -1 4194304 0 0 0 0 {utime} {stime} {cutime} {cstime} 20 0 {threads} 0 {start_ticks} {vm} {} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
        tid,
        comm(p),
        p.ppid(),
        p.pgid.load(core::sync::atomic::Ordering::Relaxed),
        p.sid.load(core::sync::atomic::Ordering::Relaxed),
        vm / 4096,
    )
    .into_bytes()
}
